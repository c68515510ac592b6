//! The tfplugin6 adapters, called in-process on a small test provider: decoding, diagnostics, planning glue,
//! apply/upgrade/import behaviour. (The transport is covered by `plugin_transport.rs`.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use provider::codec;
use provider::convert::diagnostics::path_from_proto;
use provider::framework::*;
use provider::proto::tfplugin6 as pb;
use provider::proto::tfplugin6::provider_server::Provider as Rpc;
use provider::server::ProviderService;
use tonic::Request;

#[derive(Default)]
struct TestProvider {
    configured_with: Mutex<Option<String>>,
    stopped: AtomicBool,
}

#[async_trait]
impl Provider for TestProvider {
    fn type_name(&self) -> &'static str {
        "test"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Test provider.").attribute(Attribute::optional(
                "region",
                Type::String,
                "Region.",
            )),
        )
    }
    async fn configure(&self, _config: &Value, terraform_version: &str) -> Diagnostics {
        *self.configured_with.lock().unwrap() = Some(terraform_version.to_string());
        Diagnostics::new()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Thing)]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(Echo)]
    }
    async fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

struct Thing;

fn thing_schema() -> Schema {
    Schema::new(
        1,
        Block::new("A thing.")
            .attribute(Attribute::computed("id", Type::String, "Id.").use_state_for_unknown())
            .attribute(Attribute::required("name", Type::String, "Name.").requires_replace())
            .attribute(Attribute::optional("size", Type::Number, "Size."))
            .attribute(Attribute::optional("secret", Type::String, "Secret.").sensitive()),
    )
}

#[async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &'static str {
        "test_thing"
    }
    fn schema(&self) -> Schema {
        thing_schema()
    }
    async fn validate(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if config.get("name").as_str() == Some("") {
            d.error_at(
                AttributePath::attr("name"),
                "Empty name",
                "Set name to a non-empty string.",
            );
        }
        d
    }
    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let mut state = req.planned.clone();
        let name = state.get("name").as_str().unwrap_or_default().to_string();
        state.set("id", Value::string(format!("id-{name}")));
        let mut diagnostics = Diagnostics::new();
        if name == "fail" {
            diagnostics.error(
                "Creation failed half way",
                "The thing exists but is not configured.",
            );
        }
        ApplyResponse {
            new_state: state,
            private: b"p1".to_vec(),
            diagnostics,
        }
    }
    async fn read(&self, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: req.current,
            private: req.private,
            diagnostics: Diagnostics::new(),
        }
    }
    async fn import(&self, id: &str) -> ImportResponse {
        let v = obj(&[
            ("id", Value::string(id)),
            ("name", Value::string("imported")),
        ]);
        ImportResponse {
            imported: vec![v],
            diagnostics: Diagnostics::new(),
        }
    }
}

struct Echo;

#[async_trait]
impl DataSource for Echo {
    fn type_name(&self) -> &'static str {
        "test_echo"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Echo.")
                .attribute(Attribute::required("input", Type::String, "In."))
                .attribute(Attribute::computed("output", Type::String, "Out.")),
        )
    }
    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let mut state = req.config.clone();
        let upper = state
            .get("input")
            .as_str()
            .unwrap_or_default()
            .to_uppercase();
        state.set("output", Value::string(upper));
        ReadDataResponse {
            state,
            diagnostics: Diagnostics::new(),
        }
    }
}

/// An object with every Thing attribute (null unless given).
fn obj(fields: &[(&str, Value)]) -> Value {
    let mut v = Value::object(["id", "name", "size", "secret"].map(|k| (k, Value::Null)));
    for (k, x) in fields {
        v.set(k, x.clone());
    }
    v
}

fn thing_type() -> Type {
    thing_schema().block.implied_type()
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: codec::msgpack::encode(v, ty).unwrap(),
        json: vec![],
    })
}

fn undv(d: &Option<pb::DynamicValue>, ty: &Type) -> Value {
    codec::msgpack::decode(&d.as_ref().expect("a value").msgpack, ty).unwrap()
}

fn garbage() -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: vec![0x82, 0xa4, b'n', b'a'],
        json: vec![],
    })
}

fn service() -> (ProviderService, Arc<TestProvider>) {
    let p = Arc::new(TestProvider::default());
    (ProviderService::new(p.clone()), p)
}

fn errors(d: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    d.iter()
        .filter(|x| x.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}

#[tokio::test]
async fn schema_lists_types_and_provider_block() {
    let (s, _) = service();
    let r = s
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(r.provider.is_some());
    let thing = &r.resource_schemas["test_thing"];
    assert_eq!(thing.version, 1);
    let attrs = &thing.block.as_ref().unwrap().attributes;
    let secret = attrs.iter().find(|a| a.name == "secret").unwrap();
    assert!(secret.sensitive && secret.optional);
    assert!(r.data_source_schemas.contains_key("test_echo"));
    let m = s
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.resources[0].type_name, "test_thing");
    assert_eq!(m.data_sources[0].type_name, "test_echo");
}

#[tokio::test]
async fn malformed_msgpack_is_an_error_diagnostic() {
    let (s, _) = service();
    let r = s
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "test_thing".into(),
            config: garbage(),
            ..Default::default()
        }))
        .await
        .expect("not a gRPC error")
        .into_inner();
    let e = errors(&r.diagnostics);
    assert_eq!(e.len(), 1, "{:?}", r.diagnostics);
    assert_eq!(e[0].summary, "Invalid value from Terraform");
    assert!(
        e[0].detail.contains("configuration for test_thing"),
        "{}",
        e[0].detail
    );

    let r = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: None,
            proposed_new_state: garbage(),
            config: garbage(),
            ..Default::default()
        }))
        .await
        .expect("not a gRPC error")
        .into_inner();
    assert!(!errors(&r.diagnostics).is_empty());
    assert!(r.planned_state.is_none());
    assert!(r
        .diagnostics
        .iter()
        .all(|d| d.detail.starts_with("Invalid value from Terraform")));
}

#[tokio::test]
async fn undefined_attribute_points_at_its_path() {
    let (s, _) = service();
    // Valid msgpack, but an attribute the schema does not have.
    let mut bytes = vec![0x81, 0xa5];
    bytes.extend_from_slice(b"bogus");
    bytes.push(0xc3);
    let r = s
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "test_thing".into(),
            config: Some(pb::DynamicValue {
                msgpack: bytes,
                json: vec![],
            }),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let e = errors(&r.diagnostics);
    assert_eq!(e.len(), 1, "{:?}", r.diagnostics);
    assert!(e[0].detail.contains("bogus"), "{}", e[0].detail);
}

#[tokio::test]
async fn resource_validation_diagnostic_keeps_its_path() {
    let (s, _) = service();
    let r = s
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "test_thing".into(),
            config: dv(&obj(&[("name", Value::string(""))]), &thing_type()),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(
        path_from_proto(r.diagnostics[0].attribute.as_ref().unwrap()),
        AttributePath::attr("name")
    );
}

#[tokio::test]
async fn unknown_type_names_the_valid_ones() {
    let (s, _) = service();
    let r = s
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "test_thingy".into(),
            config: None,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.diagnostics[0].summary, "Unknown resource type");
    assert!(r.diagnostics[0].detail.contains("\"test_thingy\""));
    assert!(
        r.diagnostics[0]
            .detail
            .contains("Valid resource types: test_thing."),
        "{}",
        r.diagnostics[0].detail
    );
    let r = s
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "nope".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        r.diagnostics[0]
            .detail
            .contains("Valid data source types: test_echo."),
        "{}",
        r.diagnostics[0].detail
    );
}

#[tokio::test]
async fn plan_create_marks_computed_unknown_and_update_forces_replacement() {
    let (s, _) = service();
    let ty = thing_type();
    let config = obj(&[("name", Value::string("a"))]);
    let r = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            proposed_new_state: dv(&config, &ty),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let planned = undv(&r.planned_state, &ty);
    assert!(planned.get("id").is_unknown(), "{planned:?}");
    assert_eq!(planned.get("name"), &Value::string("a"));
    assert!(r.requires_replace.is_empty());

    let prior = obj(&[("id", Value::string("id-a")), ("name", Value::string("a"))]);
    let config = obj(&[("name", Value::string("b"))]);
    let proposed = obj(&[("id", Value::string("id-a")), ("name", Value::string("b"))]);
    let r = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&prior, &ty),
            proposed_new_state: dv(&proposed, &ty),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let paths: Vec<AttributePath> = r.requires_replace.iter().map(path_from_proto).collect();
    assert_eq!(paths, vec![AttributePath::attr("name")]);
}

#[tokio::test]
async fn plan_destroy_returns_null() {
    let (s, _) = service();
    let ty = thing_type();
    let prior = obj(&[("id", Value::string("id-a")), ("name", Value::string("a"))]);
    let r = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&prior, &ty),
            proposed_new_state: dv(&Value::Null, &ty),
            config: dv(&Value::Null, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty());
    assert_eq!(undv(&r.planned_state, &ty), Value::Null);
}

#[tokio::test]
async fn apply_keeps_partial_state_with_errors() {
    let (s, _) = service();
    let ty = thing_type();
    let planned = obj(&[("id", Value::Unknown), ("name", Value::string("fail"))]);
    let r = s
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            planned_state: dv(&planned, &ty),
            config: dv(&obj(&[("name", Value::string("fail"))]), &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&r.diagnostics)[0].summary,
        "Creation failed half way"
    );
    let state = undv(&r.new_state, &ty);
    assert_eq!(
        state.get("id"),
        &Value::string("id-fail"),
        "the created object stays in state"
    );
    assert_eq!(r.private, b"p1".to_vec());
}

#[tokio::test]
async fn upgrade_state_from_json_and_refuse_flatmap() {
    let (s, _) = service();
    let ty = thing_type();
    let json =
        br#"{"id":"id-a","name":"a","size":3,"secret":null,"removed_long_ago":true}"#.to_vec();
    let r = s
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json,
                flatmap: Default::default(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let v = undv(&r.upgraded_state, &ty);
    assert_eq!(v.get("size"), &Value::int(3));

    // Every digit of a stored number survives (beyond f64 and u64).
    let json = br#"{"id":"id-a","name":"a","size":123456789012345678901234567890.5}"#.to_vec();
    let r = s
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json,
                flatmap: Default::default(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    let v = undv(&r.upgraded_state, &ty);
    let size = Number::parse("123456789012345678901234567890.5").unwrap();
    assert_eq!(v.get("size"), &Value::Number(size));
    assert_eq!(v.get("name"), &Value::string("a"));

    let r = s
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 2,
            raw_state: Some(pb::RawState {
                json: br#"{"name":"a"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&r.diagnostics)[0]
            .detail
            .contains("upgrade the provider"),
        "{:?}",
        r.diagnostics
    );

    let r = s
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: vec![],
                flatmap: [("id".into(), "x".into())].into(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&r.diagnostics)[0].summary,
        "Legacy state format not supported"
    );
}

#[tokio::test]
async fn import_read_data_configure_and_stop() {
    let (s, p) = service();
    let ty = thing_type();
    let r = s
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "test_thing".into(),
            id: "db-1".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.imported_resources.len(), 1);
    assert_eq!(r.imported_resources[0].type_name, "test_thing");
    assert_eq!(
        undv(&r.imported_resources[0].state, &ty).get("id"),
        &Value::string("db-1")
    );

    let current = obj(&[("id", Value::string("x")), ("name", Value::string("n"))]);
    let r = s
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "test_thing".into(),
            current_state: dv(&current, &ty),
            private: b"keep".to_vec(),
            provider_meta: None,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(undv(&r.new_state, &ty), current);
    assert_eq!(r.private, b"keep".to_vec());

    let echo_ty = Echo.schema().block.implied_type();
    let config = Value::object([("input", Value::string("abc")), ("output", Value::Null)]);
    let r = s
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "test_echo".into(),
            config: dv(&config, &echo_ty),
            provider_meta: None,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        undv(&r.state, &echo_ty).get("output"),
        &Value::string("ABC")
    );

    let pty = p.schema().block.implied_type();
    let cfg = Value::object([("region", Value::Null)]);
    let r = s
        .configure_provider(Request::new(pb::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: dv(&cfg, &pty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty());
    assert_eq!(p.configured_with.lock().unwrap().as_deref(), Some("1.0.3"));

    s.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .unwrap();
    assert!(p.stopped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn newer_rpcs_answer_clearly() {
    let (s, _) = service();
    let r = s
        .move_resource_state(Request::new(pb::move_resource_state::Request {
            source_type_name: "other_thing".into(),
            target_type_name: "test_thing".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&r.diagnostics)[0].summary.contains("not supported"));
    let r = s
        .get_functions(Request::new(pb::get_functions::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(r.functions.is_empty());
    let r = s
        .call_function(Request::new(pb::call_function::Request {
            name: "f".into(),
            arguments: vec![],
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.error.unwrap().text.contains("defines no functions"));
}
