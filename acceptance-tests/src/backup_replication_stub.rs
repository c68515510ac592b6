//! A recorded-response stub of RDS cross-region automated backup replication, in front of moto_server.
//!
//! Why a stub: moto does not implement `StartDBInstanceAutomatedBackupsReplication` or
//! `StopDBInstanceAutomatedBackupsReplication` (HTTP 500, not implemented), and its
//! `DescribeDBInstanceAutomatedBackups` returns only an identifier and a status. This proxy answers exactly those
//! three actions itself, with responses shaped like the RDS API reference documents them (the
//! `DBInstanceAutomatedBackup` structure), and forwards every other call to moto unchanged, except that the
//! `DescribeDBInstances` answer of a source region lists the instance's active replications
//! (`DBInstanceAutomatedBackupsReplications`), as RDS does. It is a test double of the AWS API and nothing
//! more: what it proves is that the provider makes the right calls in the right regions and reads their answers
//! back; real AWS behaviour (copy times, costs) is not modelled.
//!
//! The region of a call is the one its SigV4 credential scope names, as on AWS: the provider's regional client for
//! the DR region signs for that region.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::fault_proxy::{action_of, error_response, find, forward, header, read_request, Request};
use crate::HarnessError;

/// The account id in the ARNs the stub makes up.
const ACCOUNT: &str = "123456789012";

/// One replication the stub holds, keyed by source instance ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replication {
    /// The source instance's ARN and identifier.
    pub source_arn: String,
    pub identifier: String,
    /// Where the source lives and where its backups are copied to.
    pub source_region: String,
    pub region: String,
    pub kms_key_id: Option<String>,
    pub retention_days: u32,
    /// `DBInstanceAutomatedBackupsArn` of the copy (in `region`).
    pub backups_arn: String,
    /// `replicating` while active; `retained` once stopped (AWS keeps the copies for their retention period).
    pub status: String,
}

#[derive(Debug, Default)]
struct StubState {
    replications: BTreeMap<String, Replication>,
    /// `(region, action)` of every call, in order.
    calls: Vec<(String, String)>,
}

/// The running stub; its thread lives as long as the test binary.
#[derive(Debug, Clone)]
pub struct BackupReplicationStub {
    port: u16,
    upstream: u16,
    state: Arc<Mutex<StubState>>,
}

impl BackupReplicationStub {
    /// Listens on a free loopback port and forwards to `upstream` (moto_server's port).
    pub fn start(upstream: u16) -> Result<Self, HarnessError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| HarnessError::io("binding the RDS stub", "127.0.0.1:0", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the RDS stub's address", "127.0.0.1", e))?
            .port();
        let stub = BackupReplicationStub {
            port,
            upstream,
            state: Arc::new(Mutex::new(StubState::default())),
        };
        let s = stub.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || s.serve(conn));
            }
        });
        Ok(stub)
    }

    /// The port the provider's `aws.endpoint` points at.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The replication of the source instance `identifier`, if the stub holds one (active or retained).
    pub fn replication_of(&self, identifier: &str) -> Option<Replication> {
        self.lock()
            .replications
            .values()
            .find(|r| r.identifier == identifier)
            .cloned()
    }

    /// `(region, action)` of the calls so far.
    pub fn calls(&self) -> Vec<(String, String)> {
        self.lock().calls.clone()
    }

    /// Stops a replication as someone outside Terraform would (the console), to show refresh reading it back.
    pub fn stop_outside_terraform(&self, identifier: &str) {
        let mut s = self.lock();
        if let Some(r) = s
            .replications
            .values_mut()
            .find(|r| r.identifier == identifier)
        {
            r.status = "retained".into();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StubState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn serve(&self, mut client: TcpStream) {
        loop {
            let Some(req) = read_request(&mut client) else {
                return;
            };
            let action = action_of(&req).unwrap_or_default();
            let region = region_of(&req).unwrap_or_else(|| "us-east-1".into());
            self.lock().calls.push((region.clone(), action.clone()));
            let params = form(&req);
            let answer = match action.as_str() {
                "StartDBInstanceAutomatedBackupsReplication" => {
                    self.start_replication(&region, &params)
                }
                "StopDBInstanceAutomatedBackupsReplication" => {
                    self.stop_replication(&region, &params)
                }
                "DescribeDBInstanceAutomatedBackups"
                    if params.contains_key("DBInstanceAutomatedBackupsArn") =>
                {
                    self.describe(&region, &params)
                }
                "DescribeDBInstances" => self.describe_instances(&region, &req),
                _ => forward(self.upstream, &req).unwrap_or_else(no_answer),
            };
            if client.write_all(&answer).is_err() {
                return;
            }
        }
    }

    fn start_replication(&self, region: &str, p: &BTreeMap<String, String>) -> Vec<u8> {
        let Some(source_arn) = p.get("SourceDBInstanceArn") else {
            return error_response(
                400,
                "Sender",
                "MissingParameter",
                "SourceDBInstanceArn is required",
            );
        };
        let parts: Vec<&str> = source_arn.split(':').collect();
        let (Some(source_region), Some(identifier)) = (parts.get(3), parts.get(6)) else {
            return error_response(
                400,
                "Sender",
                "InvalidParameterValue",
                "SourceDBInstanceArn is not a DB instance ARN",
            );
        };
        if *source_region == region {
            return error_response(
                400,
                "Sender",
                "InvalidParameterCombination",
                "The source DB instance must be in a different AWS Region than the replicated backups",
            );
        }
        // The source must exist, in its own region.
        let described = moto_describe(self.upstream, source_region, identifier);
        let Some(xml) = described.filter(|x| x.contains("<DBInstance>")) else {
            return error_response(
                404,
                "Sender",
                "DBInstanceNotFound",
                &format!("DBInstance {identifier} not found."),
            );
        };
        let encrypted = xml.contains("<StorageEncrypted>true</StorageEncrypted>");
        let kms = p.get("KmsKeyId").cloned();
        if encrypted && kms.is_none() {
            return error_response(
                400,
                "Sender",
                "InvalidParameterCombination",
                "KmsKeyId is required to replicate the backups of an encrypted DB instance to another Region",
            );
        }
        let mut s = self.lock();
        if s.replications
            .get(source_arn.as_str())
            .is_some_and(|r| r.status == "replicating")
        {
            return error_response(
                400,
                "Sender",
                "DBInstanceAutomatedBackupQuotaExceeded",
                "The DB instance already replicates its automated backups",
            );
        }
        let r = Replication {
            source_arn: source_arn.clone(),
            identifier: identifier.to_string(),
            source_region: source_region.to_string(),
            region: region.to_string(),
            kms_key_id: kms,
            retention_days: p
                .get("BackupRetentionPeriod")
                .and_then(|v| v.parse().ok())
                .unwrap_or(7),
            backups_arn: format!(
                "arn:aws:rds:{region}:{ACCOUNT}:auto-backup:ab-{}",
                identifier.replace('-', "")
            ),
            status: "replicating".into(),
        };
        s.replications.insert(source_arn.clone(), r.clone());
        result(
            "StartDBInstanceAutomatedBackupsReplication",
            &backup_xml(&r),
        )
    }

    fn stop_replication(&self, region: &str, p: &BTreeMap<String, String>) -> Vec<u8> {
        let Some(source_arn) = p.get("SourceDBInstanceArn") else {
            return error_response(
                400,
                "Sender",
                "MissingParameter",
                "SourceDBInstanceArn is required",
            );
        };
        let mut s = self.lock();
        match s
            .replications
            .get_mut(source_arn.as_str())
            .filter(|r| r.region == region && r.status == "replicating")
        {
            Some(r) => {
                r.status = "retained".into();
                let xml = backup_xml(r);
                result("StopDBInstanceAutomatedBackupsReplication", &xml)
            }
            None => error_response(
                404,
                "Sender",
                "DBInstanceAutomatedBackupNotFound",
                &format!("No automated backup replication of {source_arn} in {region}"),
            ),
        }
    }

    fn describe(&self, region: &str, p: &BTreeMap<String, String>) -> Vec<u8> {
        let arn = p
            .get("DBInstanceAutomatedBackupsArn")
            .cloned()
            .unwrap_or_default();
        let s = self.lock();
        match s
            .replications
            .values()
            .find(|r| r.backups_arn == arn && r.region == region)
        {
            Some(r) => result(
                "DescribeDBInstanceAutomatedBackups",
                &format!(
                    "<DBInstanceAutomatedBackups><DBInstanceAutomatedBackup>{}</DBInstanceAutomatedBackup></DBInstanceAutomatedBackups>",
                    backup_fields(r)
                ),
            ),
            None => error_response(
                404,
                "Sender",
                "DBInstanceAutomatedBackupNotFound",
                &format!("DBInstanceAutomatedBackup {arn} not found."),
            ),
        }
    }

    /// moto's answer, with each instance's active replications listed as RDS lists them.
    fn describe_instances(&self, region: &str, req: &Request) -> Vec<u8> {
        let Some(answer) = forward(self.upstream, req) else {
            return no_answer();
        };
        let Some(end) = find(&answer, b"\r\n\r\n") else {
            return answer;
        };
        let head = String::from_utf8_lossy(&answer[..end]).to_string();
        let mut body = String::from_utf8_lossy(&answer[end + 4..]).to_string();
        let s = self.lock();
        for r in s
            .replications
            .values()
            .filter(|r| r.source_region == region && r.status == "replicating")
        {
            let tag = format!(
                "<DBInstanceIdentifier>{}</DBInstanceIdentifier>",
                r.identifier
            );
            body = body.replace(
                &tag,
                &format!(
                    "{tag}<DBInstanceAutomatedBackupsReplications><DBInstanceAutomatedBackupsReplication><DBInstanceAutomatedBackupsArn>{}</DBInstanceAutomatedBackupsArn></DBInstanceAutomatedBackupsReplication></DBInstanceAutomatedBackupsReplications>",
                    r.backups_arn
                ),
            );
        }
        let kept: Vec<&str> = head
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("content-length"))
            .collect();
        let mut out = kept.join("\r\n").into_bytes();
        out.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body.as_bytes());
        out
    }
}

fn no_answer() -> Vec<u8> {
    error_response(502, "Receiver", "BadGateway", "moto did not answer")
}

/// The members of a `DBInstanceAutomatedBackup` (RDS API reference), for one replication.
fn backup_fields(r: &Replication) -> String {
    let kms = r
        .kms_key_id
        .as_ref()
        .map(|k| format!("<KmsKeyId>{k}</KmsKeyId>"))
        .unwrap_or_default();
    format!(
        "<DBInstanceArn>{}</DBInstanceArn><DbiResourceId>db-{}</DbiResourceId><Region>{}</Region>\
         <DBInstanceIdentifier>{}</DBInstanceIdentifier><Status>{}</Status><Encrypted>{}</Encrypted>{kms}\
         <BackupRetentionPeriod>{}</BackupRetentionPeriod><DBInstanceAutomatedBackupsArn>{}</DBInstanceAutomatedBackupsArn>",
        r.source_arn,
        r.identifier.to_ascii_uppercase().replace('-', ""),
        r.source_region,
        r.identifier,
        r.status,
        r.kms_key_id.is_some(),
        r.retention_days,
        r.backups_arn
    )
}

fn backup_xml(r: &Replication) -> String {
    format!(
        "<DBInstanceAutomatedBackup>{}</DBInstanceAutomatedBackup>",
        backup_fields(r)
    )
}

/// A query-protocol success response: `<{action}Response><{action}Result>inner</…></…>`.
fn result(action: &str, inner: &str) -> Vec<u8> {
    let body = format!(
        "<{action}Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><{action}Result>{inner}</{action}Result>\
         <ResponseMetadata><RequestId>backup-replication-stub</RequestId></ResponseMetadata></{action}Response>"
    );
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The region of the request's SigV4 credential scope (`Credential=AKID/20240101/us-west-2/rds/aws4_request`).
fn region_of(req: &Request) -> Option<String> {
    let auth = header(&req.head, "authorization")?;
    let scope = auth.split("Credential=").nth(1)?;
    scope.split('/').nth(2).map(str::to_string)
}

/// The form parameters of a query-protocol call, percent-decoded.
fn form(req: &Request) -> BTreeMap<String, String> {
    String::from_utf8_lossy(&req.body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `DescribeDBInstances` of one instance straight to moto, signed for `region`: the response XML.
fn moto_describe(moto: u16, region: &str, identifier: &str) -> Option<String> {
    let body =
        format!("Action=DescribeDBInstances&Version=2014-10-31&DBInstanceIdentifier={identifier}");
    let req = Request {
        head: format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{moto}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/{region}/rds/aws4_request, \
             SignedHeaders=host, Signature=0\r\nContent-Length: {}",
            body.len()
        ),
        body: body.into_bytes(),
    };
    let raw = forward(moto, &req)?;
    let end = find(&raw, b"\r\n\r\n")?;
    Some(String::from_utf8_lossy(&raw[end + 4..]).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_percent_decoded() {
        let r = Request {
            head: "POST / HTTP/1.1".into(),
            body: b"Action=X&SourceDBInstanceArn=arn%3Aaws%3Ards%3Aus-east-1%3A1%3Adb%3Aa&K=a+b"
                .to_vec(),
        };
        let f = form(&r);
        assert_eq!(f["SourceDBInstanceArn"], "arn:aws:rds:us-east-1:1:db:a");
        assert_eq!(f["K"], "a b");
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn the_region_comes_from_the_credential_scope() {
        let r = Request {
            head: "POST / HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-west-2/rds/aws4_request, SignedHeaders=host".into(),
            body: Vec::new(),
        };
        assert_eq!(region_of(&r).as_deref(), Some("us-west-2"));
    }
}
