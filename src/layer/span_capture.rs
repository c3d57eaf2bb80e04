//! Spans recorded in errors (opt-in, [`LogLayerBuilder::spans_in_errors`]): an error
//! created inside spans keeps their names and fields as its `spans` info field, so its
//! report (`{:?}`) and its JSON say where it happened, as color-eyre's span trace does
//! for text only.
//!
//! [`LogLayerBuilder::spans_in_errors`]: super::LogLayerBuilder::spans_in_errors

use serde_json::{Map, Value};
use tracing_subscriber::registry::{LookupSpan, Registry};

use super::log_layer::{LogLayer, SpanFields};
use crate::records::field_key;

/// The info key an error records its spans under.
pub(crate) const SPANS_KEY: &str = "spans";

/// The spans the current thread is in, outermost first, as
/// `[{"name": .., field: value, ..}, ..]`: only when the current subscriber holds a
/// [`LogLayer`] built with `spans_in_errors(true)` over a tracing-subscriber
/// `Registry`, and the thread is in a span.
pub(crate) fn current_spans() -> Option<Value> {
    tracing::Span::current()
        .with_subscriber(|(id, dispatch)| {
            let layer = dispatch.downcast_ref::<LogLayer>()?;
            if !layer.spans_in_errors() {
                return None;
            }
            let registry = dispatch.downcast_ref::<Registry>()?;
            let span = registry.span(id)?;
            let spans = span
                .scope()
                .from_root()
                .map(|span| {
                    let mut object = Map::new();
                    object.insert("name".to_owned(), Value::String(span.name().to_owned()));
                    if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                        for (key, value) in fields.iter() {
                            object.insert(field_key(key, &["name"]).into_owned(), value.clone());
                        }
                    }
                    Value::Object(object)
                })
                .collect();
            Some(Value::Array(spans))
        })
        .flatten()
}
