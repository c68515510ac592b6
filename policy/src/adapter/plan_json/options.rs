//! How a plan is read: what to keep besides the inputs, and whom to tell which bytes are read.

/// What [`parse_plan_with`](super::parse::parse_plan_with) keeps besides the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Keep the whole plan as a JSON tree in [`PlanInputs::raw`](super::plan_inputs::PlanInputs::raw) (for rules over raw plan JSON). Without it only
    /// the plan's `configuration` is kept there: the whole tree of a large plan costs several times its size.
    pub keep_raw: bool,
    /// Keep the inputs. Without it each input is still built (and checked) but dropped at once; only
    /// [`PlanInputs::resources`](super::plan_inputs::PlanInputs::resources) counts them (for a check with no dbplatform rules to evaluate).
    pub keep_inputs: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            keep_raw: false,
            keep_inputs: true,
        }
    }
}

/// Told which bytes of the plan text the adapter has finished reading (offsets into the text), so a caller
/// holding the text in a file mapping can give those pages back while the rest is still being read.
pub type DoneWith<'r> = &'r (dyn Fn(std::ops::Range<usize>) + Sync);

/// Where `part` (a slice of `whole`) lies in `whole`, for [`DoneWith`].
pub(crate) fn span_in(whole: &[u8], part: &str) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    start..start + part.len()
}
