//! Field and label selectors parse, and fail, exactly as the Kubernetes API
//! server parses them for events: every selectable field of core/v1 and
//! events.k8s.io, operators, escapes, empty values, duplicates, whitespace,
//! every error with its exact text; label selectors of every form with key
//! and value validation; `LabelRequirement::matches`; and random input never
//! panics.

use std::collections::BTreeMap;

use kevdb_engine::selector::{
    field_label, parse_field_selector, parse_label_selector, supported_field_labels, SelectorErrorKind,
};
use kevdb_engine::{ApiShape, FieldFilter, LabelOp, LabelRequirement, QueryField};
use proptest::prelude::*;

const CORE: ApiShape = ApiShape::CoreV1;
const EVENTS_GROUP: [ApiShape; 2] = [ApiShape::EventsV1, ApiShape::EventsV1beta1];

fn is(field: QueryField, value: &str) -> FieldFilter {
    FieldFilter::is_in(field, [value])
}

fn not(field: QueryField, value: &str) -> FieldFilter {
    FieldFilter::not_in(field, [value])
}

/// Parses `input` for `shapes` and compares with `expected`.
fn check_field(input: &str, shapes: &[ApiShape], expected: &[FieldFilter]) {
    for &shape in shapes {
        match parse_field_selector(input, shape) {
            Ok(got) => assert_eq!(got, expected, "parse_field_selector({input:?}, {shape:?})"),
            Err(e) => panic!("parse_field_selector({input:?}, {shape:?}) failed: {e}"),
        }
    }
}

/// Parses `input` for `shapes` and expects the error `kind` with `message`.
fn check_field_error(input: &str, shapes: &[ApiShape], kind: SelectorErrorKind, message: &str) {
    for &shape in shapes {
        match parse_field_selector(input, shape) {
            Ok(got) => panic!("parse_field_selector({input:?}, {shape:?}) = {got:?}, wanted error {message:?}"),
            Err(e) => {
                assert_eq!(e.to_string(), message, "parse_field_selector({input:?}, {shape:?})");
                assert_eq!(e.message(), message);
                assert_eq!(e.kind(), kind, "parse_field_selector({input:?}, {shape:?})");
                assert_eq!(e.is_field_label_not_supported(), kind == SelectorErrorKind::FieldLabelNotSupported);
                assert_eq!(e.http_status(), 400);
            }
        }
    }
}

const ALL_SHAPES: [ApiShape; 3] = [ApiShape::CoreV1, ApiShape::EventsV1, ApiShape::EventsV1beta1];

#[test]
fn every_core_v1_field_maps_to_its_filter() {
    let cases: &[(&str, QueryField)] = &[
        ("metadata.name", QueryField::MetadataName),
        ("metadata.namespace", QueryField::MetadataNamespace),
        ("involvedObject.kind", QueryField::InvolvedObjectKind),
        ("involvedObject.namespace", QueryField::InvolvedObjectNamespace),
        ("involvedObject.name", QueryField::InvolvedObjectName),
        ("involvedObject.uid", QueryField::InvolvedObjectUid),
        ("involvedObject.apiVersion", QueryField::InvolvedObjectApiVersion),
        ("involvedObject.resourceVersion", QueryField::InvolvedObjectResourceVersion),
        ("involvedObject.fieldPath", QueryField::InvolvedObjectFieldPath),
        ("reason", QueryField::Reason),
        ("type", QueryField::Type),
        ("reportingComponent", QueryField::ReportingComponent),
        // source.component, or reportingController when it is empty.
        ("source", QueryField::Component),
    ];
    for &(label, field) in cases {
        check_field(&format!("{label}=x"), &[CORE], &[is(field, "x")]);
        check_field(&format!("{label}==x"), &[CORE], &[is(field, "x")]);
        check_field(&format!("{label}!=x"), &[CORE], &[not(field, "x")]);
        assert_eq!(field_label(label, CORE), Some(field), "{label}");
    }
    let mut listed: Vec<&str> = supported_field_labels(CORE).collect();
    let mut expected: Vec<&str> = cases.iter().map(|&(label, _)| label).collect();
    listed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(listed, expected);
}

#[test]
fn every_events_group_field_maps_to_its_filter() {
    let cases: &[(&str, QueryField)] = &[
        ("metadata.name", QueryField::MetadataName),
        ("metadata.namespace", QueryField::MetadataNamespace),
        ("regarding.kind", QueryField::InvolvedObjectKind),
        ("regarding.namespace", QueryField::InvolvedObjectNamespace),
        ("regarding.name", QueryField::InvolvedObjectName),
        ("regarding.uid", QueryField::InvolvedObjectUid),
        ("regarding.apiVersion", QueryField::InvolvedObjectApiVersion),
        ("regarding.resourceVersion", QueryField::InvolvedObjectResourceVersion),
        ("regarding.fieldPath", QueryField::InvolvedObjectFieldPath),
        ("reason", QueryField::Reason),
        ("type", QueryField::Type),
        ("reportingController", QueryField::ReportingComponent),
    ];
    for shape in EVENTS_GROUP {
        for &(label, field) in cases {
            check_field(&format!("{label}=x"), &[shape], &[is(field, "x")]);
            check_field(&format!("{label}==x"), &[shape], &[is(field, "x")]);
            check_field(&format!("{label}!=x"), &[shape], &[not(field, "x")]);
            assert_eq!(field_label(label, shape), Some(field), "{label}");
        }
        let mut listed: Vec<&str> = supported_field_labels(shape).collect();
        let mut expected: Vec<&str> = cases.iter().map(|&(label, _)| label).collect();
        listed.sort_unstable();
        expected.sort_unstable();
        assert_eq!(listed, expected);
    }
}

#[test]
fn field_selectors_parse_like_the_api_server() {
    use QueryField::*;
    let cases: Vec<(&str, &[ApiShape], Vec<FieldFilter>)> = vec![
        // Nothing to select on.
        ("", &ALL_SHAPES, vec![]),
        (",", &ALL_SHAPES, vec![]),
        (",,,", &ALL_SHAPES, vec![]),
        // Operators.
        ("type=Warning", &ALL_SHAPES, vec![is(Type, "Warning")]),
        ("type==Warning", &ALL_SHAPES, vec![is(Type, "Warning")]),
        ("type!=Warning", &ALL_SHAPES, vec![not(Type, "Warning")]),
        ("source==kubelet", &[CORE], vec![is(Component, "kubelet")]),
        ("reason!=Pulled", &ALL_SHAPES, vec![not(Reason, "Pulled")]),
        // Terms are ANDed, each its own filter, in sorted term order.
        ("type=Warning,involvedObject.kind=Pod", &[CORE], vec![is(InvolvedObjectKind, "Pod"), is(Type, "Warning")]),
        ("regarding.kind=Pod,type=Warning", &EVENTS_GROUP, vec![is(InvolvedObjectKind, "Pod"), is(Type, "Warning")]),
        ("type=Warning,reason!=BackOff,", &ALL_SHAPES, vec![not(Reason, "BackOff"), is(Type, "Warning")]),
        (",type=Warning,,reason=A,", &ALL_SHAPES, vec![is(Reason, "A"), is(Type, "Warning")]),
        // Duplicated and contradictory terms are all kept.
        ("type=Warning,type=Warning", &ALL_SHAPES, vec![is(Type, "Warning"), is(Type, "Warning")]),
        ("type=Warning,type=Normal", &ALL_SHAPES, vec![is(Type, "Normal"), is(Type, "Warning")]),
        ("type=Normal,type!=Normal", &ALL_SHAPES, vec![not(Type, "Normal"), is(Type, "Normal")]),
        // Empty values: `reason=` selects events whose reason is empty.
        ("reason=", &ALL_SHAPES, vec![is(Reason, "")]),
        ("reason==", &ALL_SHAPES, vec![is(Reason, "")]),
        ("reason!=", &ALL_SHAPES, vec![not(Reason, "")]),
        ("reason=,type=", &ALL_SHAPES, vec![is(Reason, ""), is(Type, "")]),
        // Escapes in values: `\,` `\=` `\\`.
        (r"reason=a\,b", &ALL_SHAPES, vec![is(Reason, "a,b")]),
        (r"reason=a\,", &ALL_SHAPES, vec![is(Reason, "a,")]),
        (r"reason=a\,type\=b", &ALL_SHAPES, vec![is(Reason, "a,type=b")]),
        (r"reason=a\=b", &ALL_SHAPES, vec![is(Reason, "a=b")]),
        (r"reason=a\\b", &ALL_SHAPES, vec![is(Reason, r"a\b")]),
        (r"reason=\\", &ALL_SHAPES, vec![is(Reason, r"\")]),
        (r"reason=\,\=\\", &ALL_SHAPES, vec![is(Reason, r",=\")]),
        (r"reason=a\\,type=b", &ALL_SHAPES, vec![is(Reason, r"a\"), is(Type, "b")]),
        (r"reason!=x\,y,type=z", &ALL_SHAPES, vec![not(Reason, "x,y"), is(Type, "z")]),
        // Only the first operator splits; `!` and `==` can be in values.
        ("reason=a!b", &ALL_SHAPES, vec![is(Reason, "a!b")]),
        ("reason=!", &ALL_SHAPES, vec![is(Reason, "!")]),
        (r"reason=\=\=", &ALL_SHAPES, vec![is(Reason, "==")]),
        ("reason=(x)", &ALL_SHAPES, vec![is(Reason, "(x)")]),
        // Whitespace is never trimmed: it is part of values.
        ("type=Warning ", &ALL_SHAPES, vec![is(Type, "Warning ")]),
        ("type= Warning", &ALL_SHAPES, vec![is(Type, " Warning")]),
        ("reason=a b", &ALL_SHAPES, vec![is(Reason, "a b")]),
        ("reason=\t", &ALL_SHAPES, vec![is(Reason, "\t")]),
        // Any text is a value.
        ("reason=Ünïcödé ✓", &ALL_SHAPES, vec![is(Reason, "Ünïcödé ✓")]),
        ("metadata.name=web-1.17c3f0a2b9d8e4f1", &ALL_SHAPES, vec![is(MetadataName, "web-1.17c3f0a2b9d8e4f1")]),
        (
            "involvedObject.uid=0b7e6c1e-4f0a-4f86-9d1f-8c4bbf2b5d1e",
            &[CORE],
            vec![is(InvolvedObjectUid, "0b7e6c1e-4f0a-4f86-9d1f-8c4bbf2b5d1e")],
        ),
        (
            "involvedObject.fieldPath=spec.containers{web}",
            &[CORE],
            vec![is(InvolvedObjectFieldPath, "spec.containers{web}")],
        ),
        ("regarding.apiVersion=apps/v1", &EVENTS_GROUP, vec![is(InvolvedObjectApiVersion, "apps/v1")]),
    ];
    for (input, shapes, expected) in cases {
        check_field(input, shapes, &expected);
    }
}

#[test]
fn field_selector_errors_have_the_api_server_text() {
    use SelectorErrorKind::{FieldLabelNotSupported as Unsupported, InvalidFieldSelector as Invalid};
    let cases: &[(&str, &[ApiShape], SelectorErrorKind, &str)] = &[
        // A term without an operator.
        ("type", &ALL_SHAPES, Invalid, "invalid selector: 'type'; can't understand 'type'"),
        (
            "type=Warning,reason",
            &ALL_SHAPES,
            Invalid,
            "invalid selector: 'type=Warning,reason'; can't understand 'reason'",
        ),
        (
            "involvedObject.kind in (Pod)",
            &ALL_SHAPES,
            Invalid,
            "invalid selector: 'involvedObject.kind in (Pod)'; can't understand 'involvedObject.kind in (Pod)'",
        ),
        ("!type", &ALL_SHAPES, Invalid, "invalid selector: '!type'; can't understand '!type'"),
        ("type!Warning", &ALL_SHAPES, Invalid, "invalid selector: 'type!Warning'; can't understand 'type!Warning'"),
        // Blank is not empty: a term of spaces does not parse.
        (" ", &ALL_SHAPES, Invalid, "invalid selector: ' '; can't understand ' '"),
        ("  ,type=x", &ALL_SHAPES, Invalid, "invalid selector: '  ,type=x'; can't understand '  '"),
        // Bad escapes and unescaped `=` in values (`,` cannot get there unescaped).
        (r"reason=a\nb", &ALL_SHAPES, Invalid, r"invalid field selector: invalid escape sequence: \n"),
        (r"reason=\!", &ALL_SHAPES, Invalid, r"invalid field selector: invalid escape sequence: \!"),
        (r"reason=\é", &ALL_SHAPES, Invalid, r"invalid field selector: invalid escape sequence: \é"),
        (r"reason=a\", &ALL_SHAPES, Invalid, r"invalid field selector: invalid escape sequence: \"),
        (r"reason=a\\\", &ALL_SHAPES, Invalid, r"invalid field selector: invalid escape sequence: \"),
        ("reason=a=b", &ALL_SHAPES, Invalid, "invalid field selector: unescaped character in value: 61"),
        (r"reason=a\,type=b", &ALL_SHAPES, Invalid, "invalid field selector: unescaped character in value: 61"),
        ("reason===b", &ALL_SHAPES, Invalid, "invalid field selector: unescaped character in value: 61"),
        ("reason=a!=b", &ALL_SHAPES, Invalid, "invalid field selector: unescaped character in value: 61"),
        ("reason!=a=b", &ALL_SHAPES, Invalid, "invalid field selector: unescaped character in value: 61"),
        // Fields events do not offer, in any group.
        ("message=x", &ALL_SHAPES, Unsupported, "field label not supported: message"),
        ("note=x", &ALL_SHAPES, Unsupported, "field label not supported: note"),
        ("metadata.uid=x", &ALL_SHAPES, Unsupported, "field label not supported: metadata.uid"),
        ("metadata.labels=x", &ALL_SHAPES, Unsupported, "field label not supported: metadata.labels"),
        ("source.component=x", &ALL_SHAPES, Unsupported, "field label not supported: source.component"),
        ("source.host=x", &ALL_SHAPES, Unsupported, "field label not supported: source.host"),
        ("reportingInstance=x", &ALL_SHAPES, Unsupported, "field label not supported: reportingInstance"),
        ("count=1", &ALL_SHAPES, Unsupported, "field label not supported: count"),
        ("action=x", &ALL_SHAPES, Unsupported, "field label not supported: action"),
        ("Type=Warning", &ALL_SHAPES, Unsupported, "field label not supported: Type"),
        ("=x", &ALL_SHAPES, Unsupported, "field label not supported: "),
        ("!=x", &ALL_SHAPES, Unsupported, "field label not supported: "),
        ("a!b=c", &ALL_SHAPES, Unsupported, "field label not supported: a!b"),
        (r"reason\,x=y", &ALL_SHAPES, Unsupported, r"field label not supported: reason\,x"),
        // Whitespace around the field is part of the field.
        (" type=Warning", &ALL_SHAPES, Unsupported, "field label not supported:  type"),
        ("type =Warning", &ALL_SHAPES, Unsupported, "field label not supported: type "),
        ("type = Warning", &ALL_SHAPES, Unsupported, "field label not supported: type "),
        ("type=Warning, reason=Failed", &ALL_SHAPES, Unsupported, "field label not supported:  reason"),
        // Fields of the other group.
        ("regarding.kind=Pod", &[CORE], Unsupported, "field label not supported: regarding.kind"),
        ("regarding.name=web", &[CORE], Unsupported, "field label not supported: regarding.name"),
        ("reportingController=x", &[CORE], Unsupported, "field label not supported: reportingController"),
        ("involvedObject.kind=Pod", &EVENTS_GROUP, Unsupported, "field label not supported: involvedObject.kind"),
        ("involvedObject.name=web", &EVENTS_GROUP, Unsupported, "field label not supported: involvedObject.name"),
        ("reportingComponent=x", &EVENTS_GROUP, Unsupported, "field label not supported: reportingComponent"),
        ("source=kubelet", &EVENTS_GROUP, Unsupported, "field label not supported: source"),
        ("deprecatedSource=x", &EVENTS_GROUP, Unsupported, "field label not supported: deprecatedSource"),
        // Every term parses before any field is checked, in sorted order.
        ("bogus=1,type", &ALL_SHAPES, Invalid, "invalid selector: 'bogus=1,type'; can't understand 'type'"),
        ("bogus=1,reason=a=b", &ALL_SHAPES, Invalid, "invalid field selector: unescaped character in value: 61"),
        (r"b,a=\x", &ALL_SHAPES, Invalid, r"invalid field selector: invalid escape sequence: \x"),
        (r"a,b=\x", &ALL_SHAPES, Invalid, r"invalid selector: 'a,b=\x'; can't understand 'a'"),
        ("zeta=1,alpha=2", &ALL_SHAPES, Unsupported, "field label not supported: alpha"),
        ("type=x,zeta=1,reason=y", &ALL_SHAPES, Unsupported, "field label not supported: zeta"),
    ];
    for &(input, shapes, kind, message) in cases {
        check_field_error(input, shapes, kind, message);
    }
}

fn req(key: &str, op: LabelOp) -> LabelRequirement {
    LabelRequirement { key: key.to_owned(), op }
}

fn in_(values: &[&str]) -> LabelOp {
    LabelOp::In(values.iter().map(|v| (*v).to_owned()).collect())
}

fn not_in(values: &[&str]) -> LabelOp {
    LabelOp::NotIn(values.iter().map(|v| (*v).to_owned()).collect())
}

fn check_label(input: &str, expected: &[LabelRequirement]) {
    match parse_label_selector(input) {
        Ok(got) => assert_eq!(got, expected, "parse_label_selector({input:?})"),
        Err(e) => panic!("parse_label_selector({input:?}) failed: {e}"),
    }
}

fn check_label_error(input: &str, message: &str) {
    match parse_label_selector(input) {
        Ok(got) => panic!("parse_label_selector({input:?}) = {got:?}, wanted error {message:?}"),
        Err(e) => {
            assert_eq!(e.to_string(), message, "parse_label_selector({input:?})");
            assert_eq!(e.kind(), SelectorErrorKind::InvalidLabelSelector);
            assert!(!e.is_field_label_not_supported());
        }
    }
}

#[test]
fn label_selectors_parse_like_the_api_server() {
    let long_name = "n".repeat(63);
    let long_prefix = format!("{}.example.com", "p".repeat(241)); // 253 bytes
    let long_value = "v".repeat(63);
    let cases: Vec<(String, Vec<LabelRequirement>)> = vec![
        // Nothing to select on.
        ("".into(), vec![]),
        ("   ".into(), vec![]),
        (" \t\r\n".into(), vec![]),
        // Every operator.
        ("app=web".into(), vec![req("app", in_(&["web"]))]),
        ("app==web".into(), vec![req("app", in_(&["web"]))]),
        ("tier!=db".into(), vec![req("tier", not_in(&["db"]))]),
        ("env in (prod,stage)".into(), vec![req("env", in_(&["prod", "stage"]))]),
        ("env notin (dev)".into(), vec![req("env", not_in(&["dev"]))]),
        ("canary".into(), vec![req("canary", LabelOp::Exists)]),
        ("!canary".into(), vec![req("canary", LabelOp::DoesNotExist)]),
        ("replicas>2".into(), vec![req("replicas", LabelOp::GreaterThan(2))]),
        ("replicas<10".into(), vec![req("replicas", LabelOp::LessThan(10))]),
        ("replicas>0".into(), vec![req("replicas", LabelOp::GreaterThan(0))]),
        ("replicas>007".into(), vec![req("replicas", LabelOp::GreaterThan(7))]),
        ("r<9223372036854775807".into(), vec![req("r", LabelOp::LessThan(i64::MAX))]),
        // Values are a sorted set.
        ("env in (stage,prod,prod)".into(), vec![req("env", in_(&["prod", "stage"]))]),
        ("env notin (b,a)".into(), vec![req("env", not_in(&["a", "b"]))]),
        // Empty values.
        ("app=".into(), vec![req("app", in_(&[""]))]),
        ("app==".into(), vec![req("app", in_(&[""]))]),
        ("app!=".into(), vec![req("app", not_in(&[""]))]),
        ("app=,b".into(), vec![req("app", in_(&[""])), req("b", LabelOp::Exists)]),
        ("env in ()".into(), vec![req("env", in_(&[""]))]),
        ("env notin ()".into(), vec![req("env", not_in(&[""]))]),
        ("env in (,)".into(), vec![req("env", in_(&[""]))]),
        ("env in (a,)".into(), vec![req("env", in_(&["", "a"]))]),
        ("env in (,a)".into(), vec![req("env", in_(&["", "a"]))]),
        ("env in (a,,b)".into(), vec![req("env", in_(&["", "a", "b"]))]),
        ("env in (a,,)".into(), vec![req("env", in_(&["", "a"]))]),
        // Comma = AND; requirements sorted by key (stable for equal keys).
        (
            "tier!=db,app=web,!canary".into(),
            vec![req("app", in_(&["web"])), req("canary", LabelOp::DoesNotExist), req("tier", not_in(&["db"]))],
        ),
        ("a=2,a=1".into(), vec![req("a", in_(&["2"])), req("a", in_(&["1"]))]),
        ("a,a".into(), vec![req("a", LabelOp::Exists), req("a", LabelOp::Exists)]),
        ("a,!a".into(), vec![req("a", LabelOp::Exists), req("a", LabelOp::DoesNotExist)]),
        // Blanks between tokens are ignored.
        (" app = web ".into(), vec![req("app", in_(&["web"]))]),
        ("env in(prod, stage)".into(), vec![req("env", in_(&["prod", "stage"]))]),
        ("env  notin  ( dev , test )".into(), vec![req("env", not_in(&["dev", "test"]))]),
        ("a\t=\tb ,\n! c".into(), vec![req("a", in_(&["b"])), req("c", LabelOp::DoesNotExist)]),
        ("replicas > 2".into(), vec![req("replicas", LabelOp::GreaterThan(2))]),
        // `in` and `notin` are keywords only where an operator goes.
        ("in=notin".into(), vec![req("in", in_(&["notin"]))]),
        ("a in (in,notin)".into(), vec![req("a", in_(&["in", "notin"]))]),
        ("notin".into(), vec![req("notin", LabelOp::Exists)]),
        ("!in".into(), vec![req("in", LabelOp::DoesNotExist)]),
        ("! notin".into(), vec![req("notin", LabelOp::DoesNotExist)]),
        // Keys with prefixes, and at their limits.
        ("app.kubernetes.io/name=web".into(), vec![req("app.kubernetes.io/name", in_(&["web"]))]),
        ("example.com/A-b_c.D=X.y-Z_1".into(), vec![req("example.com/A-b_c.D", in_(&["X.y-Z_1"]))]),
        ("0/0=0".into(), vec![req("0/0", in_(&["0"]))]),
        (long_name.clone(), vec![req(&long_name, LabelOp::Exists)]),
        (format!("{long_prefix}/{long_name}"), vec![req(&format!("{long_prefix}/{long_name}"), LabelOp::Exists)]),
        (format!("a={long_value}"), vec![req("a", in_(&[&long_value]))]),
        // A NUL byte where a token starts ends the selector; inside a token it separates.
        ("a=b \0junk".into(), vec![req("a", in_(&["b"]))]),
        ("a=b\0,c".into(), vec![req("a", in_(&["b"])), req("c", LabelOp::Exists)]),
    ];
    for (input, expected) in cases {
        check_label(&input, &expected);
    }
}

/// `name part must consist of …`, as Go words it (with its doubled spaces).
const NAME_RULE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an \
     alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is \
     '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_RULE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or \
     '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex \
     used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const PREFIX_RULE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or \
     '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is \
     '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const INTEGER_RULE: &str = "for 'Gt', 'Lt' operators, the value must be an integer";
const OPERATORS: &str = "expected: in, notin, =, ==, !=, gt, lt";

#[test]
fn label_selector_errors_have_the_api_server_text() {
    let key = |k: &str, detail: &str| format!("unable to parse requirement: <nil>: Invalid value: \"{k}\": {detail}");
    let name_rule = format!("name part {NAME_RULE}");
    let long_name = "n".repeat(64);
    let long_prefix = "p".repeat(254);
    let long_value = "v".repeat(64);
    let cases: Vec<(String, String)> = vec![
        // Structure.
        (",".into(), "found ',', expected: !, identifier, or 'end of string'".into()),
        ("=a".into(), "found '=', expected: !, identifier, or 'end of string'".into()),
        ("!=a".into(), "found '!=', expected: !, identifier, or 'end of string'".into()),
        ("(a)".into(), "found '(', expected: !, identifier, or 'end of string'".into()),
        ("a,".into(), "found '', expected: identifier after ','".into()),
        ("a,,b".into(), "found ',', expected: identifier after ','".into()),
        ("a, =b".into(), "found '=', expected: identifier after ','".into()),
        ("a=b c".into(), "found 'c', expected: ',' or 'end of string'".into()),
        ("a=b)".into(), "found ')', expected: ',' or 'end of string'".into()),
        ("!a=b".into(), "found '=', expected: ',' or 'end of string'".into()),
        ("a in (b) c".into(), "found 'c', expected: ',' or 'end of string'".into()),
        // Requirements.
        ("!".into(), "unable to parse requirement: found '', expected: identifier".into()),
        ("!!a".into(), "unable to parse requirement: found '!', expected: identifier".into()),
        ("a b".into(), format!("unable to parse requirement: found 'b', {OPERATORS}")),
        ("a!b".into(), format!("unable to parse requirement: found '!', {OPERATORS}")),
        ("a(b)".into(), format!("unable to parse requirement: found '(', {OPERATORS}")),
        ("a=(".into(), "unable to parse requirement: found '(', expected: identifier".into()),
        ("a!=)".into(), "unable to parse requirement: found ')', expected: identifier".into()),
        ("a>=1".into(), "unable to parse requirement: found '=', expected: identifier".into()),
        ("a in b".into(), "unable to parse requirement: found 'b' expected: '('".into()),
        ("a in".into(), "unable to parse requirement: found '' expected: '('".into()),
        ("a notin".into(), "unable to parse requirement: found '' expected: '('".into()),
        ("a in (".into(), "unable to parse requirement: found '', expected: ',', ')' or identifier".into()),
        ("a in (=)".into(), "unable to parse requirement: found '=', expected: ',', ')' or identifier".into()),
        ("a in (b".into(), "unable to parse requirement: found '', expected: ',' or ')'".into()),
        ("a in (b c)".into(), "unable to parse requirement: found 'c', expected: ',' or ')'".into()),
        ("a in (b,".into(), "unable to parse requirement: found '', expected: ',', or identifier".into()),
        ("a in (,=)".into(), "unable to parse requirement: found '=', expected: ',', or identifier".into()),
        // Keys.
        ("-a=b".into(), key("-a", &name_rule)),
        ("Foo_".into(), key("Foo_", &name_rule)),
        ("app:web".into(), key("app:web", &name_rule)),
        ("ключ=x".into(), key("ключ", &name_rule)),
        ("a\"b".into(), format!("unable to parse requirement: <nil>: Invalid value: \"a\\\"b\": {name_rule}")),
        ("a\u{1}b".into(), format!("unable to parse requirement: <nil>: Invalid value: \"a\\x01b\": {name_rule}")),
        (long_name.clone(), key(&long_name, "name part must be no more than 63 characters")),
        (format!("{long_name}-"), key(&format!("{long_name}-"), &format!("name part must be no more than 63 characters; {name_rule}"))),
        (
            "a/b/c=x".into(),
            key(
                "a/b/c",
                &format!(
                    "a valid label key {NAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
                ),
            ),
        ),
        ("/a=x".into(), key("/a", "prefix part must be non-empty")),
        ("a/=x".into(), key("a/", &format!("name part must be non-empty; {name_rule}"))),
        ("/".into(), key("/", &format!("prefix part must be non-empty; name part must be non-empty; {name_rule}"))),
        ("Example.com/a=x".into(), key("Example.com/a", &format!("prefix part {PREFIX_RULE}"))),
        ("a_b/c".into(), key("a_b/c", &format!("prefix part {PREFIX_RULE}"))),
        ("a..b/c".into(), key("a..b/c", &format!("prefix part {PREFIX_RULE}"))),
        (format!("{long_prefix}/a"), key(&format!("{long_prefix}/a"), "prefix part must be no more than 253 characters")),
        (
            format!("{long_prefix}-/a"),
            key(&format!("{long_prefix}-/a"), &format!("prefix part must be no more than 253 characters; prefix part {PREFIX_RULE}")),
        ),
        // Values.
        ("a=b/c".into(), format!("unable to parse requirement: values[0][a]: Invalid value: \"b/c\": {VALUE_RULE}")),
        ("a!=-b".into(), format!("unable to parse requirement: values[0][a]: Invalid value: \"-b\": {VALUE_RULE}")),
        ("a=é".into(), format!("unable to parse requirement: values[0][a]: Invalid value: \"é\": {VALUE_RULE}")),
        ("a=\"x\"".into(), format!("unable to parse requirement: values[0][a]: Invalid value: \"\\\"x\\\"\": {VALUE_RULE}")),
        (
            format!("a={long_value}"),
            format!("unable to parse requirement: values[0][a]: Invalid value: \"{long_value}\": must be no more than 63 characters"),
        ),
        (
            format!("a={long_value}-"),
            format!(
                "unable to parse requirement: values[0][a]: Invalid value: \"{long_value}-\": must be no more than 63 characters; {VALUE_RULE}"
            ),
        ),
        (
            "k in (x/y,ok,b/c)".into(),
            format!(
                "unable to parse requirement: [values[0][k]: Invalid value: \"b/c\": {VALUE_RULE}, values[2][k]: Invalid value: \"x/y\": {VALUE_RULE}]"
            ),
        ),
        // Integers for `>` and `<`.
        ("a>abc".into(), format!("unable to parse requirement: values[0]: Invalid value: \"abc\": {INTEGER_RULE}")),
        ("a>".into(), format!("unable to parse requirement: values[0]: Invalid value: \"\": {INTEGER_RULE}")),
        ("a<1.5".into(), format!("unable to parse requirement: values[0]: Invalid value: \"1.5\": {INTEGER_RULE}")),
        (
            "a>9223372036854775808".into(),
            format!("unable to parse requirement: values[0]: Invalid value: \"9223372036854775808\": {INTEGER_RULE}"),
        ),
        // A negative number is an integer but not a label value.
        ("a>-1".into(), format!("unable to parse requirement: values[0][a]: Invalid value: \"-1\": {VALUE_RULE}")),
        (
            "a<x-".into(),
            format!(
                "unable to parse requirement: [values[0]: Invalid value: \"x-\": {INTEGER_RULE}, values[0][a]: Invalid value: \"x-\": {VALUE_RULE}]"
            ),
        ),
    ];
    for (input, message) in cases {
        check_label_error(&input, &message);
    }
}

#[test]
fn label_error_texts_match_ones_seen_from_real_api_servers() {
    // Verbatim from `kubectl get pods -l app:monolith` against a cluster.
    check_label_error(
        "app:monolith",
        "unable to parse requirement: <nil>: Invalid value: \"app:monolith\": name part must consist of alphanumeric \
         characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or \
         'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
    // Verbatim from the apiserver's request-info tests.
    check_label_error(
        "*bar",
        "unable to parse requirement: <nil>: Invalid value: \"*bar\": name part must consist of alphanumeric \
         characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or \
         'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
}

#[test]
fn label_requirements_match_label_maps() {
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
    };
    /// A selector, the labels of an object, and whether it matches.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
    let cases: &[Case] = &[
        ("app=web", &[("app", "web")], true),
        ("app=web", &[("app", "db")], false),
        ("app=web", &[], false),
        ("app==web", &[("app", "web"), ("tier", "x")], true),
        ("app!=web", &[("app", "web")], false),
        ("app!=web", &[("app", "db")], true),
        ("app!=web", &[], true),
        ("env in (prod,stage)", &[("env", "stage")], true),
        ("env in (prod,stage)", &[("env", "dev")], false),
        ("env in (prod,stage)", &[], false),
        ("env notin (dev)", &[("env", "dev")], false),
        ("env notin (dev)", &[("env", "prod")], true),
        ("env notin (dev)", &[], true),
        ("canary", &[("canary", "")], true),
        ("canary", &[], false),
        ("!canary", &[("canary", "true")], false),
        ("!canary", &[], true),
        ("app=", &[("app", "")], true),
        ("app=", &[], false),
        ("env in ()", &[("env", "")], true),
        ("env in (a,)", &[("env", "")], true),
        ("replicas>2", &[("replicas", "3")], true),
        ("replicas>2", &[("replicas", "2")], false),
        ("replicas>2", &[("replicas", "three")], false),
        ("replicas>2", &[], false),
        ("replicas<2", &[("replicas", "-5")], true),
        ("replicas<2", &[("replicas", "2")], false),
        ("app=web,tier!=db", &[("app", "web"), ("tier", "fe")], true),
        ("app=web,tier!=db", &[("app", "web"), ("tier", "db")], false),
        ("a=1,a=2", &[("a", "1")], false),
        ("", &[("anything", "x")], true),
    ];
    for &(selector, pairs, expected) in cases {
        let requirements = match parse_label_selector(selector) {
            Ok(r) => r,
            Err(e) => panic!("{selector:?}: {e}"),
        };
        let map = labels(pairs);
        let got = requirements.iter().all(|r| r.matches(&map));
        assert_eq!(got, expected, "{selector:?} on {pairs:?}");
    }
}

/// `fields.EscapeValue`.
fn escape_field_value(v: &str) -> String {
    v.replace('\\', r"\\").replace(',', r"\,").replace('=', r"\=")
}

/// Strings heavy in the characters both grammars care about.
fn selector_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z=!(),<>\\\\ \t\n\0.-/_é]{0,40}",
        "((!|)[a-z]{1,4}( ?(=|==|!=|<|>| in | notin ) ?(\\(|)[a-z0-9,]{0,6}(\\)|))?,?){0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// No input panics either parser; errors carry their kind.
    #[test]
    fn random_input_never_panics(input in selector_text()) {
        for shape in ALL_SHAPES {
            if let Err(e) = parse_field_selector(&input, shape) {
                prop_assert!(matches!(
                    e.kind(),
                    SelectorErrorKind::InvalidFieldSelector | SelectorErrorKind::FieldLabelNotSupported
                ));
                prop_assert!(!e.message().is_empty());
            }
        }
        if let Err(e) = parse_label_selector(&input) {
            prop_assert_eq!(e.kind(), SelectorErrorKind::InvalidLabelSelector);
            prop_assert!(!e.message().is_empty());
        }
    }

    /// Any value, escaped as client-go escapes it, comes back unchanged.
    #[test]
    fn escaped_field_values_round_trip(value in any::<String>(), negate in any::<bool>()) {
        let op = if negate { "!=" } else { "=" };
        let got = parse_field_selector(&format!("reason{op}{}", escape_field_value(&value)), CORE);
        let want = if negate { not(QueryField::Reason, &value) } else { is(QueryField::Reason, &value) };
        prop_assert_eq!(got, Ok(vec![want]));
    }

    /// The order of terms does not matter.
    #[test]
    fn field_term_order_does_not_matter(
        terms in prop::collection::vec(("(reason|type|source|metadata\\.name)", "(=|==|!=)", "[a-zA-Z0-9 .]{0,6}"), 1..5),
        seed in any::<u64>(),
    ) {
        let texts: Vec<String> = terms.iter().map(|(f, o, v)| format!("{f}{o}{v}")).collect();
        let mut shuffled = texts.clone();
        let n = shuffled.len();
        shuffled.rotate_left((seed % n as u64) as usize);
        if seed & 1 == 1 {
            shuffled.reverse();
        }
        let a = parse_field_selector(&texts.join(","), CORE);
        let b = parse_field_selector(&shuffled.join(","), CORE);
        prop_assert!(a.is_ok());
        prop_assert_eq!(a.map(|v| v.len()), Ok(n));
        prop_assert_eq!(parse_field_selector(&texts.join(","), CORE), b);
    }

    /// Valid set-based requirements give the sorted, deduplicated values.
    #[test]
    fn set_requirements_give_sorted_distinct_values(
        key in "[a-z]([a-z0-9.-]{0,10}[a-z0-9])?",
        values in prop::collection::vec("[A-Za-z0-9]([A-Za-z0-9._-]{0,8}[A-Za-z0-9])?", 1..6),
        negate in any::<bool>(),
    ) {
        let op = if negate { "notin" } else { "in" };
        let got = parse_label_selector(&format!("{key} {op} ({})", values.join(",")));
        let mut distinct = values.clone();
        distinct.sort();
        distinct.dedup();
        let want = if negate { LabelOp::NotIn(distinct) } else { LabelOp::In(distinct) };
        prop_assert_eq!(got, Ok(vec![LabelRequirement { key, op: want }]));
    }
}
