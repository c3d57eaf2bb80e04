//! Typed errors that keep their fields: a `Serialize` error type becomes a `VError`
//! named after its variant (or type) with its fields as info, read through serde, so
//! `#[serde(rename)]` and `#[serde(skip)]` are honoured and no derive of ours is needed.

use std::borrow::Cow;
use std::error::Error;
use std::fmt::Display;

use serde::ser::{self, Impossible, Serialize, Serializer};
use serde_json::Value;

use crate::VError;
use crate::error::Sources;
use crate::info::{self, Info};

impl VError {
    /// A `VError` that stands for a typed error and keeps its fields: its name is the
    /// variant's name (an enum) or the type's (a struct), as serde names them, and its
    /// info holds the fields, each as JSON. It prints as the error does (`{}` is the
    /// error's text), `source()` continues with the error's own source, and
    /// [`find_cause`](crate::find_cause) finds the typed error here. Give the source
    /// field `#[serde(skip)]` (it is in the chain already). Call it in a closure,
    /// `.map_err(|e| VError::typed(e))`, so the location recorded is yours (a function
    /// path handed to `map_err` is called from core's code).
    ///
    /// ```
    /// use serde::Serialize;
    /// use verror::VError;
    ///
    /// #[derive(Debug, thiserror::Error, Serialize)]
    /// enum StoreError {
    ///     #[error("key {key:?} not found in shard {shard}")]
    ///     #[serde(rename = "KeyNotFound")]
    ///     Missing { key: String, shard: u32 },
    ///     #[error("store is read-only")]
    ///     ReadOnly,
    /// }
    ///
    /// let err = VError::typed(StoreError::Missing { key: "user:7".into(), shard: 3 });
    /// assert_eq!(err.name(), "KeyNotFound");
    /// assert_eq!(err.to_string(), r#"key "user:7" not found in shard 3"#);
    /// assert_eq!(err.own_info().get("shard"), Some(&serde_json::json!(3)));
    /// assert!(verror::find_cause::<StoreError>(&err).is_some());
    ///
    /// let json = serde_json::to_value(&err).unwrap();
    /// assert_eq!(json["info"], serde_json::json!({"key": "user:7", "shard": 3}));
    ///
    /// assert_eq!(VError::typed(StoreError::ReadOnly).name(), "ReadOnly");
    /// ```
    #[track_caller]
    pub fn typed<E: Error + Serialize + Send + Sync + 'static>(error: E) -> VError {
        let location = std::panic::Location::caller();
        // A sequence or a map has no name of its own: it is taken whole.
        let Captured { name, info } = error
            .serialize(Capture)
            .unwrap_or_else(|_| Captured::with_value(None, &error));
        let mut err = VError::from_transparent_cause(Sources::cause(error), location);
        if name.is_some() || !info.is_empty() {
            let extra = err.extra_mut();
            extra.name = name.map(Cow::Borrowed);
            extra.info = info;
        }
        err
    }
}

/// What a typed error's `Serialize` told: its name, and its fields.
struct Captured {
    name: Option<&'static str>,
    info: Info,
}

impl Captured {
    fn named(name: &'static str) -> Captured {
        Captured {
            name: Some(name),
            info: Info::new(),
        }
    }

    /// A value that is not a struct: its fields if it is a JSON object, else itself as
    /// the field `value`.
    fn with_value<T: Serialize + ?Sized>(name: Option<&'static str>, value: &T) -> Captured {
        let mut info = Info::new();
        match info::to_value(value) {
            Value::Object(map) => {
                for (key, value) in map {
                    info.insert(key, value);
                }
            }
            Value::Null => {}
            value => info.insert("value", value),
        }
        Captured { name, info }
    }
}

/// The error of the capture: it never fails on its own; a failing `Serialize` impl
/// leaves the error with its default name and no fields.
#[derive(Debug)]
struct Unsupported;

impl Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not captured")
    }
}

impl Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: Display>(_: T) -> Unsupported {
        Unsupported
    }
}

/// A serializer that reads a type's top-level shape.
struct Capture;

/// Fields of a struct or struct variant, in order.
struct Fields(Captured);

impl ser::SerializeStruct for Fields {
    type Ok = Captured;
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.0.info.insert(key, info::to_value(value));
        Ok(())
    }

    fn end(self) -> Result<Captured, Unsupported> {
        Ok(self.0)
    }
}

impl ser::SerializeStructVariant for Fields {
    type Ok = Captured;
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }

    fn end(self) -> Result<Captured, Unsupported> {
        Ok(self.0)
    }
}

/// Fields of a tuple variant, named by position.
struct Positions(Captured, usize);

impl ser::SerializeTupleVariant for Positions {
    type Ok = Captured;
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.0
            .info
            .insert(self.1.to_string(), info::to_value(value));
        self.1 += 1;
        Ok(())
    }

    fn end(self) -> Result<Captured, Unsupported> {
        Ok(self.0)
    }
}

impl ser::SerializeTupleStruct for Positions {
    type Ok = Captured;
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        ser::SerializeTupleVariant::serialize_field(self, value)
    }

    fn end(self) -> Result<Captured, Unsupported> {
        Ok(self.0)
    }
}

/// A scalar, a sequence or a map: a value without a name of its own.
macro_rules! plain {
    ($($method:ident: $ty:ty),* $(,)?) => {$(
        fn $method(self, value: $ty) -> Result<Captured, Unsupported> {
            Ok(Captured::with_value(None, &value))
        }
    )*};
}

impl Serializer for Capture {
    type Ok = Captured;
    type Error = Unsupported;
    type SerializeSeq = Impossible<Captured, Unsupported>;
    type SerializeTuple = Impossible<Captured, Unsupported>;
    type SerializeTupleStruct = Positions;
    type SerializeTupleVariant = Positions;
    type SerializeMap = Impossible<Captured, Unsupported>;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Fields;

    plain!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_f32: f32, serialize_f64: f64, serialize_char: char,
        serialize_str: &str, serialize_bytes: &[u8],
    );

    fn serialize_none(self) -> Result<Captured, Unsupported> {
        Ok(Captured::with_value(None, &()))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Captured, Unsupported> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Captured, Unsupported> {
        Ok(Captured::with_value(None, &()))
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<Captured, Unsupported> {
        Ok(Captured::named(name))
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Captured, Unsupported> {
        Ok(Captured::named(variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Captured, Unsupported> {
        Ok(Captured::with_value(Some(name), value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Captured, Unsupported> {
        Ok(Captured::with_value(Some(variant), value))
    }

    // Sequences and maps have no name: they are taken whole, through `serde_json`.
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _: usize,
    ) -> Result<Positions, Unsupported> {
        Ok(Positions(Captured::named(name), 0))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Positions, Unsupported> {
        Ok(Positions(Captured::named(variant), 0))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Fields, Unsupported> {
        Ok(Fields(Captured::named(name)))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Fields, Unsupported> {
        Ok(Fields(Captured::named(variant)))
    }
}
