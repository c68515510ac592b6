//! `gen_plan --instances N [--seed S] > plan.json`: writes the benchmark plan of [`bench::generate`].
//! N = 5000 is about 44 MiB; the same N and seed always give the same bytes.

use std::io::Write;

fn usage() -> ! {
    eprintln!("usage: gen_plan --instances N [--seed S] > plan.json");
    std::process::exit(2)
}

fn main() {
    let mut n: Option<usize> = None;
    let mut seed: u64 = 42;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let val = |args: &mut dyn Iterator<Item = String>, what: &str| -> String {
            args.next().unwrap_or_else(|| {
                eprintln!("gen_plan: {what} needs a value");
                usage()
            })
        };
        match a.as_str() {
            "--instances" | "-n" => {
                let v = val(&mut args, "--instances");
                n = Some(v.parse().unwrap_or_else(|_| {
                    eprintln!("gen_plan: --instances {v:?} is not a whole number");
                    usage()
                }));
            }
            "--seed" => {
                let v = val(&mut args, "--seed");
                seed = v.parse().unwrap_or_else(|_| {
                    eprintln!("gen_plan: --seed {v:?} is not a whole number");
                    usage()
                });
            }
            "-h" | "--help" => usage(),
            other => {
                eprintln!("gen_plan: unknown argument {other:?}");
                usage()
            }
        }
    }
    let Some(n) = n else { usage() };
    let plan = bench::generate(n, seed);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if let Err(e) = serde_json::to_writer(&mut out, &plan)
        .map_err(std::io::Error::from)
        .and_then(|_| out.flush())
    {
        eprintln!("gen_plan: cannot write the plan: {e}");
        std::process::exit(1);
    }
}
