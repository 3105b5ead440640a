//! A result as a table for a person: a listing as rows under the columns the catalog names for
//! it (or `--columns`), an object as field/value rows, cut to the terminal's width. Pure: the
//! caller says how wide, whether to colour and what time it is, so tests pin all three.

use super::human;
use dockhand_host::bindings::exports::dockhand::hub::catalog::TableView;
use serde_json::Value;

/// How a table is drawn.
pub struct Style {
    /// Bold headers (off for `NO_COLOR`, or when stdout is not a terminal).
    pub color: bool,
    /// The terminal's width in columns; `None` draws every cell whole.
    pub width: Option<usize>,
    /// Unix seconds, for "3 days ago".
    pub now: i64,
}

/// What a listing result holds: its rows, and the columns to show (the catalog's view, else
/// the first row's plain fields). `None` when the result is not a listing.
pub fn rows<'a>(body: &'a Value, view: Option<&TableView>) -> Option<(&'a [Value], Vec<String>)> {
    let list = match view {
        Some(view) if view.rows.is_empty() => body,
        Some(view) => body.get(&view.rows)?,
        None => body,
    };
    let rows = list.as_array()?;
    if rows.is_empty() && view.is_none() {
        // Nothing says what an empty list would hold: `[]` says it best.
        return None;
    }
    let columns = match view {
        Some(view) => view.columns.clone(),
        None => {
            // A list the catalog has no view for: the plain fields of its first row.
            let Some(Value::Object(first)) = rows.first() else {
                return rows
                    .iter()
                    .all(|r| !r.is_object())
                    .then(|| (rows.as_slice(), Vec::new()));
            };
            first
                .iter()
                .filter(|(_, v)| !v.is_object() && !v.is_array())
                .map(|(k, _)| k.clone())
                .take(6)
                .collect()
        }
    };
    Some((rows, columns))
}

/// The table for `body`, each line ending in a newline. `columns` (from `--columns`) replaces
/// the catalog's choice; for an object it picks the fields shown.
pub fn render(
    body: &Value,
    view: Option<&TableView>,
    columns: Option<&[String]>,
    style: &Style,
) -> String {
    if let Some((rows, default_columns)) = rows(body, view) {
        let columns = columns.map_or(default_columns, <[String]>::to_vec);
        if columns.is_empty() {
            // A list of plain values: one per line.
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|v| vec![human::cell("", Some(v), style.now)])
                .collect();
            return draw(&[], &cells, style);
        }
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                columns
                    .iter()
                    .map(|c| human::cell(c, lookup(row, c), style.now))
                    .collect()
            })
            .collect();
        let headers: Vec<String> = columns.iter().map(|c| header(c)).collect();
        return draw(&headers, &cells, style);
    }
    match body {
        Value::Object(map) => {
            let fields: Vec<(String, Option<&Value>)> = match columns {
                Some(columns) => columns
                    .iter()
                    .map(|c| (c.clone(), lookup(body, c)))
                    .collect(),
                None => map.iter().map(|(k, v)| (k.clone(), Some(v))).collect(),
            };
            let cells: Vec<Vec<String>> = fields
                .iter()
                .map(|(name, value)| {
                    vec![human::printable(name), human::cell(name, *value, style.now)]
                })
                .collect();
            draw(&["FIELD".into(), "VALUE".into()], &cells, style)
        }
        scalar => format!("{}\n", human::cell("", Some(scalar), style.now)),
    }
}

/// The value at a dotted path (`publisher.name`) of a row.
fn lookup<'a>(row: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(row, |v, field| v.get(field))
}

/// `tag_last_pushed` as `TAG LAST PUSHED`, `publisher.name` as `PUBLISHER NAME`.
fn header(column: &str) -> String {
    human::printable(column)
        .replace(['_', '.'], " ")
        .to_uppercase()
}

/// Lines of padded cells, two spaces apart, the widest columns cut (with `…`) until the table
/// fits `style.width`; the last column is not padded, so lines carry no trailing spaces.
fn draw(headers: &[String], rows: &[Vec<String>], style: &Style) -> String {
    let n = headers.len().max(rows.first().map_or(0, Vec::len));
    let mut widths = vec![0usize; n];
    for line in std::iter::once(headers).chain(rows.iter().map(Vec::as_slice)) {
        for (i, cell) in line.iter().enumerate() {
            widths[i] = widths[i].max(console::measure_text_width(cell));
        }
    }
    if let Some(limit) = style.width {
        fit(&mut widths, limit);
    }
    let mut out = String::new();
    let mut line = |cells: &[String], bold: bool| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let last = i + 1 == cells.len();
            let cut = console::truncate_str(cell, widths[i], "…");
            if last {
                text.push_str(&cut);
            } else {
                text.push_str(&console::pad_str(
                    &cut,
                    widths[i],
                    console::Alignment::Left,
                    None,
                ));
                text.push_str("  ");
            }
        }
        let text = text.trim_end();
        if bold {
            out.push_str(&format!("\x1b[1m{text}\x1b[0m\n"));
        } else {
            out.push_str(text);
            out.push('\n');
        }
    };
    if !headers.is_empty() {
        line(headers, style.color);
    }
    for row in rows {
        line(row, false);
    }
    out
}

/// Narrows the widest column, one character at a time, until the columns and their two-space
/// gaps fit `limit`, or every column is down to a few characters.
fn fit(widths: &mut [usize], limit: usize) {
    const NARROWEST: usize = 6;
    let gaps = 2 * widths.len().saturating_sub(1);
    while widths.iter().sum::<usize>() + gaps > limit {
        let Some(widest) = (0..widths.len())
            .filter(|&i| widths[i] > NARROWEST)
            .max_by_key(|&i| widths[i])
        else {
            break;
        };
        widths[widest] -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain(width: Option<usize>) -> Style {
        Style {
            color: false,
            width,
            now: 1_700_000_000,
        }
    }

    fn tags_view() -> TableView {
        TableView {
            rows: "results".into(),
            columns: vec!["name".into(), "full_size".into(), "publisher.name".into()],
        }
    }

    #[test]
    fn a_listing_shows_the_catalogs_columns_in_order_with_readable_cells() {
        let body = json!({"count": 2, "results": [
            {"name": "latest", "full_size": 3_400_000, "publisher": {"name": "docker"}, "id": 1},
            {"name": "3.19", "full_size": 512, "publisher": null},
        ]});
        let table = render(&body, Some(&tags_view()), None, &plain(None));
        assert_eq!(
            table,
            "NAME    FULL SIZE  PUBLISHER NAME\n\
             latest  3.4 MB     docker\n\
             3.19    512 B      -\n"
        );
        let chosen = render(
            &body,
            Some(&tags_view()),
            Some(&["name".into()]),
            &plain(None),
        );
        assert_eq!(chosen, "NAME\nlatest\n3.19\n");
    }

    #[test]
    fn an_object_is_field_value_rows_and_columns_pick_fields() {
        let body = json!({"name": "alpine", "is_private": false, "star_count": 11});
        let table = render(&body, None, None, &plain(None));
        assert_eq!(
            table,
            "FIELD       VALUE\nis_private  no\nname        alpine\nstar_count  11\n"
        );
        let picked = render(&body, None, Some(&["star_count".into()]), &plain(None));
        assert_eq!(picked, "FIELD       VALUE\nstar_count  11\n");
    }

    #[test]
    fn a_wide_table_is_cut_to_the_terminal() {
        let long = "x".repeat(200);
        let body = json!([{"name": "a", "description": long}]);
        let table = render(&body, None, None, &plain(Some(40)));
        for line in table.lines() {
            assert!(console::measure_text_width(line) <= 40, "{line:?}");
        }
        assert!(table.contains('…'), "{table}");
        // Without a width, nothing is cut.
        assert!(render(&body, None, None, &plain(None)).contains(&long));
    }

    #[test]
    fn colour_is_the_header_only_and_only_when_asked() {
        let body = json!([{"name": "a"}]);
        let bold = render(
            &body,
            None,
            None,
            &Style {
                color: true,
                ..plain(None)
            },
        );
        assert_eq!(bold, "\x1b[1mNAME\x1b[0m\na\n");
        assert!(!render(&body, None, None, &plain(None)).contains('\x1b'));
    }

    #[test]
    fn hostile_field_names_and_values_reach_the_table_inert() {
        let body = json!({"\u{1b}[2Jname": "\u{1b}]0;title\u{7}"});
        let table = render(&body, None, None, &plain(None));
        assert!(
            !table.chars().any(|c| c.is_control() && c != '\n'),
            "{table:?}"
        );
    }
}
