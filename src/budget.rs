//! The size budget of an error's JSON: what is written past it is cut, with markers
//! inside the data, so the result stays valid JSON that reads back.
//!
//! An ordinary error is far inside the budget: a quick upper bound says so and the
//! chain is serialized as it is. Otherwise the chain is *fitted*: copied, level by level
//! in the order the JSON writes them, into a chain that fits —
//!
//! - strings (names, messages, keys, values, locations, backtraces) longer than a
//!   share of the budget end with `… [N bytes cut]`;
//! - a level with more fields than fit ends with the field `"…": "N more fields"`;
//!   arrays and objects inside values likewise end with `"… N more items"`, and values
//!   nested deeper than the room left become their JSON text;
//! - a level too big for what is left has its own texts cut to fit (its message
//!   first; its backtrace goes); one that still does not fit, or that would nest
//!   deeper than allowed, is replaced with its whole rest by one level `{"name":"Truncated","short_message":"N more
//!   levels"}` (in a MultiError's children: `"N more errors"`).
//!
//! The root's `message` is computed from the fitted levels, so it ends with the marker.
//! Fitting is idempotent: every decision depends only on what comes before it in the
//! output, a cut string or list is no longer cut, and a marker (a lone small leaf at
//! the end of its list) is always kept. So what was written reads back and
//! re-serializes to the same bytes. The cost is linear in the chain's size, and the
//! walk is iterative: any depth, any shape, on a small stack.

use std::borrow::Cow;

use serde_json::Value;

use crate::chain::{KnownText, Level};
use crate::error::{Extra, Inner, Sources, VError};
use crate::info::Info;

/// The budget of a serialization that sets none: far above any ordinary error.
pub(crate) const DEFAULT_MAX_BYTES: usize = 1 << 20;
/// The deepest JSON nesting written by default: serde_json reads up to 128, and
/// protobuf's JSON parser up to 100.
pub(crate) const DEFAULT_MAX_NESTING: usize = 96;
/// The smallest budget honoured: room for a root level and its markers.
const MIN_BYTES: usize = 2048;
/// Fields per level, and items per array or object inside a value.
const MAX_ITEMS: usize = 256;
/// The most a marker (a `Truncated` level, a marker field) costs, and the most a
/// lone last item may cost to be kept whatever the budget left.
const MARKER: usize = 128;
/// The name of a level that stands for the levels left out.
const TRUNCATED: &str = "Truncated";

/// What a serialization may write.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    max_bytes: usize,
    /// The deepest JSON nesting (objects and arrays) of the whole output.
    max_nesting: usize,
    /// The longest string.
    max_string: usize,
    /// The longest backtrace: a smaller share, so that it never crowds out levels.
    max_backtrace: usize,
    /// Whether sensitive values are shown (their size counts then).
    reveal_sensitive: bool,
    /// Whether backtraces are written.
    backtraces: bool,
}

impl Limits {
    pub(crate) fn new(
        max_bytes: usize,
        max_nesting: usize,
        reveal_sensitive: bool,
        backtraces: bool,
    ) -> Limits {
        let max_bytes = max_bytes.max(MIN_BYTES);
        // Each open MultiError may end with a marker, and one takes two levels of
        // nesting: a small budget nests less deeply, so the markers' reserve (see
        // `reserve`) stays within a quarter of it.
        let max_nesting = max_nesting
            .clamp(4, 127)
            .min((max_bytes / 4 / MARKER).saturating_sub(3) * 2)
            .max(4);
        let mut limits = Limits {
            max_bytes,
            max_nesting,
            max_string: 0,
            max_backtrace: 0,
            reveal_sensitive,
            backtraces,
        };
        // A string may take half of what is left for levels: an error of one long
        // message arrives whole while it fits.
        limits.max_string = limits.available() / 2;
        limits.max_backtrace = limits.available() / 8;
        limits
    }

    /// Bytes kept back for the markers that may still be due once the budget is spent:
    /// one for each open MultiError's remaining children, one for the chain being
    /// written, one for a level's fields.
    fn reserve(&self) -> usize {
        MARKER * (self.max_nesting / 2 + 3)
    }

    /// What is left for levels and fields.
    fn available(&self) -> usize {
        self.max_bytes - self.reserve()
    }
}

/// The bytes of `text` as a JSON string, quotes included.
fn json_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// An upper bound of `json_len`, in O(1).
fn json_len_bound(len: usize) -> usize {
    2 + 6 * len
}

/// `text` cut to at most `max` bytes, ending with `… [N bytes cut]` when cut.
pub(crate) fn cut(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut keep = max.saturating_sub(cut_marker_len(text));
    while !text.is_char_boundary(keep) {
        keep -= 1;
    }
    Cow::Owned(with_cut_marker(text, keep))
}

/// The most bytes the marker of a cut of `text` takes: its length depends on the
/// count it states, so it is sized for the largest.
fn cut_marker_len(text: &str) -> usize {
    "… [ bytes cut]".len() + text.len().to_string().len()
}

/// The first `keep` bytes of `text` (a character boundary), then the marker that
/// says how many were left out.
fn with_cut_marker(text: &str, keep: usize) -> String {
    format!("{}… [{} bytes cut]", &text[..keep], text.len() - keep)
}

// ---- the quick check: does the chain fit as it is? --------------------------------------

/// When the chain under `root` certainly fits `limits` as it is (every string short
/// enough, every list short enough, nesting and an upper bound of the size within the
/// budget), its JSON's length when no string needs escaping (what the JSON writer
/// reserves); then fitting would change nothing, and the chain is written directly.
/// `None` when it may not fit. The first level whose text needs formatting is kept in
/// `known`, for the writer.
pub(crate) fn fits_as_is<'a>(
    root: Level<'a>,
    limits: &Limits,
    known: &mut KnownText<'a>,
) -> Option<usize> {
    // `bound`: at most what the JSON takes (every byte escaped); `len`: what it takes
    // when nothing needs escaping.
    let (mut bound, mut len) = (16, ROOT_LEN);
    // A plain chain is followed in place; only MultiErrors' children wait in a list.
    let mut next = Some((root, 1usize));
    let mut pending = Vec::new();
    while let Some((level, depth)) = next.take().or_else(|| pending.pop()) {
        // A level, its info map and a scalar value: two more nestings.
        if depth + 2 > limits.max_nesting {
            return None;
        }
        // Braces, the keys of `name`, `short_message` and `cause`, quotes and commas.
        bound += 96 + json_len_bound(level.name.len());
        len += LEVEL_LEN + level.name.len();
        let text_len = known.measure(level);
        if text_len > limits.max_string || level.name.len() > limits.max_string {
            return None;
        }
        // Twice: `short_message`, and its share of the root's `message` (with `": "`).
        bound += 2 * json_len_bound(text_len);
        len += 2 * text_len + 2;
        if let Some(verror) = level.verror() {
            if let Some(location) = verror.location() {
                let text_len = location.text_len();
                if text_len > limits.max_string {
                    return None;
                }
                bound += 16 + json_len_bound(text_len);
                len += 14 + text_len;
            }
            if limits.backtraces
                && let Some(backtrace) = verror.backtrace()
            {
                let text_len = backtrace.as_str().len();
                if text_len > limits.max_backtrace {
                    return None;
                }
                bound += 16 + json_len_bound(text_len);
                len += 15 + text_len;
            }
            let info = verror.own_info();
            if info.len() > MAX_ITEMS {
                return None;
            }
            if !info.is_empty() {
                // `"info":{}`, and `"sensitive":[..]` if need be.
                len += 9;
            }
            for (key, value) in info.iter_for(limits.reveal_sensitive) {
                if key.len() > limits.max_string {
                    return None;
                }
                bound += 4 + json_len_bound(key.len()) + json_len_bound(key.len());
                len += 4 + key.len();
                let size = value_size(value, limits.max_nesting - depth - 1, limits)?;
                bound += size.bound;
                len += size.len;
            }
            if verror.is_multi() {
                let errors = verror.errors();
                if errors.len() > MAX_ITEMS {
                    return None;
                }
                len += 11;
                pending.extend(errors.iter().map(|e| (Level::new(e, None), depth + 2)));
                continue;
            }
        }
        if bound > limits.available() {
            return None;
        }
        next = level.cause().map(|cause| (cause, depth + 1));
    }
    (bound <= limits.available()).then_some(len)
}

/// The bytes of a level's fixed part: `{"name":"","short_message":""}`, and the
/// `,"cause":` that leads to it.
const LEVEL_LEN: usize = 40;
/// The bytes the root adds: `,"message":""`, and a little room.
const ROOT_LEN: usize = 16;

/// An upper bound of a value's JSON size (`bound`), and its size when no string in it
/// needs escaping (`len`, a close estimate: numbers count as 8 bytes).
struct Size {
    bound: usize,
    len: usize,
}

/// The [`Size`] of a value, or `None` when fitting would change it.
fn value_size(value: &Value, room: usize, limits: &Limits) -> Option<Size> {
    match value {
        Value::String(text) => (text.len() <= limits.max_string).then(|| Size {
            bound: json_len_bound(text.len()),
            len: text.len() + 2,
        }),
        Value::Array(items) => {
            if room == 0 || items.len() > MAX_ITEMS {
                return None;
            }
            items
                .iter()
                .try_fold(Size { bound: 2, len: 2 }, |sum, item| {
                    let item = value_size(item, room - 1, limits)?;
                    Some(Size {
                        bound: sum.bound + 1 + item.bound,
                        len: sum.len + 1 + item.len,
                    })
                })
        }
        Value::Object(map) => {
            if room == 0 || map.len() > MAX_ITEMS {
                return None;
            }
            map.iter()
                .try_fold(Size { bound: 2, len: 2 }, |sum, (key, item)| {
                    if key.len() > limits.max_string {
                        return None;
                    }
                    let item = value_size(item, room - 1, limits)?;
                    Some(Size {
                        bound: sum.bound + 2 + json_len_bound(key.len()) + item.bound,
                        len: sum.len + 4 + key.len() + item.len,
                    })
                })
        }
        _ => Some(Size { bound: 24, len: 8 }),
    }
}

// ---- fitting: a copy of the chain that fits ---------------------------------------------

/// One level of the fitted copy, in the order the JSON writes them.
struct Fitted {
    name: String,
    short: String,
    info: Info,
    location: Option<String>,
    skip_cause_message: bool,
    backtrace: Option<String>,
    below: Below,
}

enum Below {
    None,
    Cause(usize),
    Multi(Vec<usize>),
}

/// Where a level goes, and what stands in for it if it does not fit.
#[derive(Clone, Copy)]
enum Place {
    /// The root: always written.
    Root,
    /// The cause of the fitted level `parent`: the marker stands for it and all below.
    Cause { parent: usize },
    /// A child of the fitted MultiError `parent`, with `left` children from it on: the
    /// marker stands for them.
    Child { parent: usize, left: usize },
}

enum Task<'a> {
    Level {
        level: Level<'a>,
        place: Place,
        depth: usize,
        on_path: bool,
    },
    Children {
        errors: &'a [VError],
        next: usize,
        parent: usize,
        depth: usize,
        on_path: bool,
    },
}

/// A copy of the chain under `root` that fits `limits` (see the module's docs).
pub(crate) fn fit(root: Level<'_>, limits: &Limits) -> VError {
    let mut nodes: Vec<Fitted> = Vec::new();
    let mut left = limits.available();
    let mut tasks = vec![Task::Level {
        level: root,
        place: Place::Root,
        depth: 1,
        on_path: true,
    }];
    while let Some(task) = tasks.pop() {
        match task {
            Task::Children {
                errors,
                next,
                parent,
                depth,
                on_path,
            } => {
                let Some(child) = errors.get(next) else {
                    continue;
                };
                let rest = errors.len() - next;
                let place = Place::Child { parent, left: rest };
                let on_path = on_path && next == 0;
                if next + 1 == MAX_ITEMS && rest > 1 {
                    let marker = marker(format!("{rest} more errors"));
                    left = left.saturating_sub(base_cost(&marker, on_path));
                    attach(&mut nodes, place, marker);
                    continue;
                }
                tasks.push(Task::Children {
                    errors,
                    next: next + 1,
                    parent,
                    depth,
                    on_path: false,
                });
                tasks.push(Task::Level {
                    level: Level::new(child, None),
                    place,
                    depth,
                    on_path,
                });
            }
            Task::Level {
                level,
                place,
                depth,
                on_path,
            } => {
                let mut node = copy_level(level, limits);
                let cost =
                    base_cost(&node, on_path) + usize::from(matches!(place, Place::Root)) * 16;
                let is_leaf =
                    level.cause().is_none() && !level.verror().is_some_and(VError::is_multi);
                let alone = match place {
                    Place::Root => true,
                    Place::Cause { .. } => is_leaf,
                    Place::Child { left, .. } => left == 1 && is_leaf,
                };
                let extra = cost - base_cost(&node, on_path);
                let mut keep = matches!(place, Place::Root)
                    || (alone && cost <= MARKER)
                    || (depth + 2 <= limits.max_nesting && cost <= left);
                let mut cost = cost;
                if (!keep && depth + 2 <= limits.max_nesting && left >= 4 * MARKER)
                    || (keep && cost > left && !(alone && cost <= MARKER))
                {
                    // Too big for what is left: its own texts are cut to fit rather
                    // than the level dropped (the root is always written).
                    if let Some(fitted) = shrink_to_fit(&mut node, on_path, extra, left) {
                        keep = true;
                        cost = fitted;
                    }
                }
                if !keep {
                    let text = match place {
                        Place::Child { left, .. } => format!("{left} more errors"),
                        _ => format!("{} more levels", crate::chain::count_levels([level])),
                    };
                    let marker = marker(text);
                    left = left.saturating_sub(base_cost(&marker, on_path));
                    attach(&mut nodes, place, marker);
                    if let Place::Child { .. } = place {
                        // The marker stands for the following siblings too.
                        if let Some(Task::Children { .. }) = tasks.last() {
                            tasks.pop();
                        }
                    }
                    continue;
                }
                left = left.saturating_sub(cost);
                fit_fields(&mut node, level, depth, limits, &mut left);
                let index = attach(&mut nodes, place, node);
                let on_path = on_path && !nodes[index].skip_cause_message;
                match level.verror().filter(|v| v.is_multi()) {
                    Some(multi) => {
                        nodes[index].below = Below::Multi(Vec::new());
                        tasks.push(Task::Children {
                            errors: multi.errors(),
                            next: 0,
                            parent: index,
                            depth: depth + 2,
                            on_path,
                        });
                    }
                    None => {
                        if let Some(cause) = level.cause() {
                            tasks.push(Task::Level {
                                level: cause,
                                place: Place::Cause { parent: index },
                                depth: depth + 1,
                                on_path,
                            });
                        }
                    }
                }
            }
        }
    }
    build(nodes)
}

/// A level's own parts, strings cut (its fields come after, by the budget).
fn copy_level(level: Level<'_>, limits: &Limits) -> Fitted {
    let max = limits.max_string;
    let verror = level.verror();
    Fitted {
        name: cut(level.name, max).into_owned(),
        short: cut(&level.text(), max).into_owned(),
        info: Info::new(),
        location: verror
            .and_then(VError::location)
            .map(|l| cut(&l.to_string(), max).into_owned()),
        skip_cause_message: verror.is_some_and(VError::skips_cause_message),
        backtrace: verror
            .and_then(VError::backtrace)
            .filter(|_| limits.backtraces)
            .map(|b| cut(b.as_str(), limits.max_backtrace).into_owned()),
        below: Below::None,
    }
}

/// Cuts a level's own texts (its message first) so that the level costs at most
/// `room`; its new cost, or `None` when even its name and location do not fit.
fn shrink_to_fit(node: &mut Fitted, on_path: bool, extra: usize, room: usize) -> Option<usize> {
    let cost = base_cost(node, on_path) + extra;
    if cost <= room {
        return Some(cost);
    }
    node.backtrace = None;
    node.name = cut_json(&node.name, 256);
    if let Some(location) = &node.location {
        node.location = Some(cut_json(location, 512));
    }
    let short = std::mem::take(&mut node.short);
    let fixed = base_cost(node, on_path) + extra;
    let shares = if on_path { 2 } else { 1 };
    let allowed = room.checked_sub(fixed)? / shares;
    if allowed < 64 {
        node.short = short;
        return None;
    }
    node.short = cut_json(&short, allowed);
    Some(base_cost(node, on_path) + extra)
}

/// `text` cut so that its JSON string takes at most `max` bytes (escapes counted),
/// ending with `… [N bytes cut]`; never longer than `text` itself.
fn cut_json(text: &str, max: usize) -> String {
    if json_len(text) <= max {
        return text.to_owned();
    }
    let marker_len = cut_marker_len(text);
    let room = max.saturating_sub(2 + marker_len);
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        let mut buf = [0u8; 4];
        let cost = json_len(c.encode_utf8(&mut buf)) - 2;
        if used + cost > room || at + c.len_utf8() + marker_len >= text.len() {
            break;
        }
        used += cost;
        end = at + c.len_utf8();
    }
    with_cut_marker(text, end)
}

/// A level that stands for what was left out.
fn marker(text: String) -> Fitted {
    Fitted {
        name: TRUNCATED.to_owned(),
        short: text,
        info: Info::new(),
        location: None,
        skip_cause_message: false,
        backtrace: None,
        below: Below::None,
    }
}

/// What a level costs without its fields (an upper bound of its JSON, its share of
/// the root's `message` included when it is on the message's path).
fn base_cost(node: &Fitted, on_path: bool) -> usize {
    let short = json_len(&node.short);
    64 + json_len(&node.name)
        + short
        + if on_path { short + 2 } else { 0 }
        + node.location.as_deref().map_or(0, |l| 16 + json_len(l))
        + node.backtrace.as_deref().map_or(0, |b| 16 + json_len(b))
        + if node.skip_cause_message { 28 } else { 0 }
}

/// Copies the fields of `level` into `node` while they fit `left`; the first that does
/// not, and all after it, become one field `"…": "N more fields"`.
fn fit_fields(
    node: &mut Fitted,
    level: Level<'_>,
    depth: usize,
    limits: &Limits,
    left: &mut usize,
) {
    let Some(verror) = level.verror() else {
        return;
    };
    let info = verror.own_info();
    // The level's object, its info map, then the value's own nesting.
    let room = limits.max_nesting.saturating_sub(depth + 1);
    let total = info.len();
    for (i, field) in info.fields().enumerate() {
        let rest = total - i;
        let key = cut(field.key(), limits.max_string);
        let value = fit_value(field.value(), room, limits);
        let shown = if field.is_sensitive() && !limits.reveal_sensitive {
            json_len(crate::info::REDACTED)
        } else {
            value_len(&value)
        };
        let cost = 4
            + json_len(&key)
            + shown
            + if field.is_sensitive() {
                json_len(&key) + 1
            } else {
                0
            };
        let keep = if i + 1 == MAX_ITEMS && rest > 1 {
            false
        } else {
            (rest == 1 && cost <= MARKER) || cost <= *left
        };
        if !keep {
            let text = format!("{rest} more fields");
            *left = left.saturating_sub(4 + json_len("…") + json_len(&text));
            node.info.insert("…", Value::String(text));
            return;
        }
        *left = left.saturating_sub(cost);
        let key: Cow<'static, str> = Cow::Owned(key.into_owned());
        if field.is_sensitive() {
            node.info.insert_sensitive(key, value);
        } else {
            node.info.insert(key, value);
        }
    }
}

/// The JSON size of a value.
fn value_len(value: &Value) -> usize {
    match value {
        Value::String(text) => json_len(text),
        Value::Array(items) => 2 + items.iter().map(|v| 1 + value_len(v)).sum::<usize>(),
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| 2 + json_len(k) + value_len(v))
                .sum::<usize>()
        }
        other => other.to_string().len(),
    }
}

/// A value within `room` levels of nesting and the string and list limits.
fn fit_value(value: &Value, room: usize, limits: &Limits) -> Value {
    match value {
        Value::String(text) => Value::String(cut(text, limits.max_string).into_owned()),
        Value::Array(_) | Value::Object(_) if room == 0 => {
            Value::String(cut(&value.to_string(), limits.max_string).into_owned())
        }
        Value::Array(items) => {
            let keep = if items.len() > MAX_ITEMS {
                MAX_ITEMS - 1
            } else {
                items.len()
            };
            let mut out: Vec<Value> = items[..keep]
                .iter()
                .map(|item| fit_value(item, room - 1, limits))
                .collect();
            if keep < items.len() {
                out.push(Value::String(format!(
                    "… {} more items",
                    items.len() - keep
                )));
            }
            Value::Array(out)
        }
        Value::Object(map) => {
            let keep = if map.len() > MAX_ITEMS {
                MAX_ITEMS - 1
            } else {
                map.len()
            };
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .take(keep)
                .map(|(k, v)| {
                    (
                        cut(k, limits.max_string).into_owned(),
                        fit_value(v, room - 1, limits),
                    )
                })
                .collect();
            if keep < map.len() {
                out.insert(
                    "…".to_owned(),
                    Value::String(format!("{} more items", map.len() - keep)),
                );
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Puts a fitted level in its place; its index.
fn attach(nodes: &mut Vec<Fitted>, place: Place, node: Fitted) -> usize {
    let index = nodes.len();
    nodes.push(node);
    match place {
        Place::Root => {}
        Place::Cause { parent } => nodes[parent].below = Below::Cause(index),
        Place::Child { parent, .. } => {
            if let Below::Multi(children) = &mut nodes[parent].below {
                children.push(index);
            }
        }
    }
    index
}

/// The fitted levels as a chain of `VError`s, built from the deepest up (each level's
/// causes and children come after it in `nodes`).
fn build(nodes: Vec<Fitted>) -> VError {
    let mut built: Vec<Option<VError>> = Vec::with_capacity(nodes.len());
    built.resize_with(nodes.len(), || None);
    for (index, node) in nodes.into_iter().enumerate().rev() {
        let sources = match node.below {
            Below::None => Sources::None,
            Below::Cause(i) => built[i].take().map_or(Sources::None, Sources::VError),
            Below::Multi(children) => {
                Sources::Multi(children.iter().filter_map(|&i| built[i].take()).collect())
            }
        };
        let below = sources.below();
        let name = sources.name_to_keep(node.name);
        built[index] = Some(VError::from_inner(Inner {
            short: Cow::Owned(node.short),
            location: None,
            skip_cause_message: node.skip_cause_message,
            transparent: false,
            backtrace_below: node.backtrace.is_some() || below.backtrace,
            drop_depth: below.drop_depth,
            extra: Extra::new(
                name,
                node.info,
                node.backtrace.map(crate::Backtrace::from_text),
                node.location.map(String::into_boxed_str),
            ),
            sources,
        }));
    }
    built
        .into_iter()
        .next()
        .flatten()
        .unwrap_or_else(|| VError::new(""))
}
