//! `dockhand mcp`: every catalog operation as an MCP tool, served over stdio with `rmcp`.
//!
//! The tool list is generated from [`Dockhand::operations`], so it can never drift from what the
//! component can actually call: each tool's `inputSchema` is the operation's argument schema and
//! its `outputSchema` the operation's result schema, as `structuredContent` carries the result
//! (see [`output_schema`]). Writes are listed (a model should know they exist) but refused
//! unless the server was started with writes allowed.

use crate::bindings::exports::dockhand::hub::catalog::{Access, OperationInfo};
use crate::prune::{APPLY_TAG_CLEANUP, PLAN_TAG_CLEANUP};
use crate::report::error_fields;
use crate::{CallError, CallOptions, Dockhand, HubError};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The name of the tool that returns the markdown reference.
pub const DOCS_TOOL: &str = "docs";

/// Where `structuredContent` carries a result that is not a JSON object.
const RESULT_KEY: &str = "result";

/// How the server treats the calls it is given.
#[derive(Debug, Clone, Default)]
pub struct McpOptions {
    /// Run operations the catalog marks `write`; refused otherwise.
    pub allow_write: bool,
    /// The account whose credentials every call uses (`default` when `None`).
    pub account: Option<String>,
}

/// Told of every tool call a server answers (`dockhand serve` counts and logs them).
pub trait ToolObserver: Send + Sync {
    /// `tool` was called; `outcome` is `ok` or the error's kind; it took `took`.
    fn observed(&self, tool: &str, outcome: &str, took: std::time::Duration);
}

/// The MCP server: a [`Dockhand`] plus the tool list generated from its catalog.
#[derive(Clone)]
pub struct McpServer {
    hub: Arc<Dockhand>,
    options: McpOptions,
    tools: Arc<Vec<Tool>>,
    observer: Option<Arc<dyn ToolObserver>>,
}

impl McpServer {
    /// Builds the tool list from the component's catalog.
    pub async fn new(hub: Arc<Dockhand>, options: McpOptions) -> Result<McpServer, CallError> {
        let mut tools: Vec<Tool> = hub
            .operations()
            .await?
            .iter()
            .map(|op| operation_tool(op, options.allow_write))
            .collect::<Result<_, _>>()?;
        tools.push(plan_tool());
        tools.push(apply_tool(options.allow_write));
        tools.push(docs_tool());
        Ok(McpServer {
            hub,
            options,
            tools: Arc::new(tools),
            observer: None,
        })
    }

    /// The same server, telling `observer` of every tool call.
    pub fn with_observer(mut self, observer: Arc<dyn ToolObserver>) -> McpServer {
        self.observer = Some(observer);
        self
    }

    /// Every tool this server offers: one per operation, then `docs`.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// Runs one tool call. Failures the model can act on come back as `isError` results; only
    /// an unknown tool name is a protocol error, as the MCP specification asks.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = Value::Object(arguments.unwrap_or_default());
        if name == DOCS_TOOL {
            return Ok(self.docs(&args).await);
        }
        if name == PLAN_TAG_CLEANUP {
            let options = CallOptions {
                account: self.options.account.clone(),
                ..Default::default()
            };
            return Ok(
                match crate::prune::plan_from_args(&self.hub, &args, &options).await {
                    Ok(result) => {
                        let totals = &result.body["totals"];
                        let text = format!(
                            "Plan for {}/{}: {} tags, {} would be deleted, {} kept (nothing \
                             was deleted). Each tag's action, rule and reason are in the \
                             structured result.",
                            result.body["namespace"].as_str().unwrap_or("?"),
                            result.body["repository"].as_str().unwrap_or("?"),
                            totals["tags"],
                            totals["delete"],
                            totals["keep"]
                        );
                        structured(result.body, text)
                    }
                    Err(e) => error_result(&e),
                },
            );
        }
        if name == APPLY_TAG_CLEANUP {
            if !self.options.allow_write {
                return Ok(error_result(&CallError::Hub(HubError::Denied(format!(
                    "`{APPLY_TAG_CLEANUP}` deletes tags and this server was started without \
                     --allow-write; nothing was sent. Ask the user to restart it with \
                     --allow-write if they want this cleanup."
                )))));
            }
            let options = CallOptions {
                account: self.options.account.clone(),
                ..Default::default()
            };
            return Ok(
                match crate::prune::apply_from_args(&self.hub, &args, &options).await {
                    Ok(result) => {
                        let r = &result.body;
                        let count = |key: &str| r[key].as_array().map_or(0, Vec::len);
                        let text = format!(
                            "Applied the plan for {}/{}: {} planned, {} deleted, {} already \
                             gone, {} skipped (pushed again since the plan), {} failed, {} not \
                             attempted. Details are in the structured result.",
                            r["namespace"].as_str().unwrap_or("?"),
                            r["repository"].as_str().unwrap_or("?"),
                            r["planned"],
                            count("deleted"),
                            count("already_gone"),
                            count("skipped"),
                            count("failed"),
                            count("not_attempted"),
                        );
                        structured(result.body, text)
                    }
                    Err(e) => error_result(&e),
                },
            );
        }
        let op = match self.hub.resolve(name).await {
            Ok(Some(op)) => op,
            Ok(None) => {
                return Err(ErrorData::invalid_params(
                    format!("unknown tool `{name}`"),
                    None,
                ));
            }
            Err(e) => return Ok(error_result(&e)),
        };
        if op.access == Access::Write && !self.options.allow_write {
            let refusal = CallError::Hub(HubError::Denied(format!(
                "`{}` is a write operation and this server was started without --allow-write; \
                 nothing was sent. Ask the user to restart it with --allow-write if they want \
                 this change.",
                op.name
            )));
            return Ok(error_result(&refusal));
        }
        let options = CallOptions {
            account: self.options.account.clone(),
            ..Default::default()
        };
        match self.hub.call(&op.name, &args, &options).await {
            Ok(result) => {
                let text = summarize(&op.name, result.status, result.pages, &result.body);
                // structuredContent must be an object; lists and text results get wrapped (and
                // the tool's outputSchema says so: `output_schema`).
                let structured_body = match result.body {
                    Value::Object(_) => result.body,
                    other => json!({ RESULT_KEY: other }),
                };
                Ok(structured(structured_body, text))
            }
            Err(e) => Ok(error_result(&e)),
        }
    }

    async fn docs(&self, args: &Value) -> CallToolResult {
        let topic = match args.get("topic") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(_) => {
                return error_result(&CallError::Hub(HubError::InvalidArgument(
                    crate::bindings::exports::dockhand::hub::types::InvalidArgument {
                        name: "topic".into(),
                        reason: "expected a string: an operation name or an area".into(),
                    },
                )));
            }
        };
        match self.hub.docs(topic.as_deref()).await {
            Ok(markdown) => CallToolResult::success(vec![ContentBlock::text(markdown)]),
            Err(e) => error_result(&e),
        }
    }

    /// Serves MCP on this process's stdin and stdout until the client goes away.
    pub async fn serve_stdio(self) -> Result<(), String> {
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| format!("starting the MCP session: {e}"))?;
        running
            .waiting()
            .await
            .map_err(|e| format!("the MCP session ended abnormally: {e}"))?;
        Ok(())
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let writes = if self.options.allow_write {
            "Write operations are enabled; tools whose description says so are destructive and \
             need the user's confirmation first."
        } else {
            "This server is read-only: write operations are listed but refused."
        };
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("dockhand", env!("CARGO_PKG_VERSION"))
                    .with_title("Docker Hub (dockhand)"),
            )
            .with_instructions(format!(
                "Docker Hub API tools, one per operation, run in a sandboxed WebAssembly \
                 component. Results are Docker Hub's JSON in structuredContent, as each tool's \
                 outputSchema describes (a result that is not an object comes as `result`). \
                 Call `docs` \
                 (optionally with a `topic`: an operation name) for the markdown reference. \
                 {writes}"
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // rmcp cancels the token when the client goes away (or sends notifications/cancelled):
        // the call stops there, as a `/v1/call` does when its connection closes, instead of
        // running on past the slot `dockhand serve` gave it.
        tokio::select! {
            result = self.answer(request) => result.map(CallToolResponse::from),
            _ = context.ct.cancelled() => {
                Err(ErrorData::internal_error("the call was cancelled", None))
            }
        }
    }
}

impl McpServer {
    /// One `tools/call`, reported to the observer however it ends: dropping the future before
    /// it is done (rmcp's cancellation, or `dockhand serve` losing the connection) reports
    /// `cancelled`.
    pub async fn answer(
        &self,
        request: CallToolRequestParams,
    ) -> Result<CallToolResult, ErrorData> {
        let mut report = Unreported {
            server: self,
            tool: &request.name,
            started: std::time::Instant::now(),
        };
        let result = self.call(&request.name, request.arguments).await;
        let outcome = match &result {
            Ok(r) if r.is_error == Some(true) => r
                .structured_content
                .as_ref()
                .and_then(|s| s["error"]["kind"].as_str())
                .unwrap_or("error")
                .to_string(),
            Ok(_) => "ok".to_string(),
            Err(_) => "protocol-error".to_string(),
        };
        // A name that is not a tool is not a label the metrics should keep.
        if result.is_err() {
            report.tool = "unknown";
        }
        report.done(&outcome);
        result
    }

    /// The label a tool name gets in reports: itself if it is a tool.
    fn tool_label<'a>(&self, name: &'a str) -> &'a str {
        if self.tools.iter().any(|tool| tool.name == name) {
            name
        } else {
            "unknown"
        }
    }
}

/// A tool call not yet reported: reported as `cancelled` if dropped first.
struct Unreported<'a> {
    server: &'a McpServer,
    tool: &'a str,
    started: std::time::Instant,
}

impl Unreported<'_> {
    fn done(self, outcome: &str) {
        if let Some(observer) = &self.server.observer {
            observer.observed(self.tool, outcome, self.started.elapsed());
        }
        std::mem::forget(self);
    }
}

impl Drop for Unreported<'_> {
    fn drop(&mut self) {
        if let Some(observer) = &self.server.observer {
            let tool = self.server.tool_label(self.tool);
            observer.observed(tool, "cancelled", self.started.elapsed());
        }
    }
}

fn operation_tool(op: &OperationInfo, allow_write: bool) -> Result<Tool, CallError> {
    let unusable = |which: &str, e: String| {
        CallError::Host(crate::HostError::new(format!(
            "the catalog's {which} schema of `{}` is unusable: {e}",
            op.name
        )))
    };
    let schema = input_schema(&op.args_schema).map_err(|e| unusable("argument", e))?;
    let output = output_schema(&op.result_schema).map_err(|e| unusable("result", e))?;
    let write = op.access == Access::Write;
    let mut description = op.summary.trim().to_string();
    if description.is_empty() {
        description = title(&op.name);
    }
    description.push_str(&format!("\n\n{} {}", op.method, op.path));
    if op.deprecated {
        description.push_str("\n\nDeprecated by Docker; prefer its replacement.");
    }
    if let Some(source) = crate::routes::by_name(&op.name).and_then(|r| r.source) {
        description.push_str(&format!(
            "\n\nNot in Docker's published API description; the Hub serves it and Docker's own \
             tools use it ({source})."
        ));
    }
    if op.destructive {
        description.push_str(
            "\n\nDESTRUCTIVE: this deletes or irreversibly changes data on Docker Hub. \
             Confirm with the user, naming what will change, before calling it.",
        );
    } else if write {
        description.push_str("\n\nChanges data on Docker Hub.");
    }
    if write && !allow_write {
        description.push_str(
            "\n\nThis server was started without --allow-write: calling this tool is refused.",
        );
    }
    let annotations = ToolAnnotations::with_title(title(&op.name))
        .read_only(!write)
        .destructive(write && op.destructive)
        .idempotent(!write || op.idempotent)
        .open_world(true);
    let mut tool = Tool::new(op.name.clone(), description, schema);
    tool.title = Some(title(&op.name));
    tool.annotations = Some(annotations);
    tool.output_schema = Some(Arc::new(output));
    Ok(tool)
}

/// The tag-cleanup planner: reads every tag, changes nothing.
fn plan_tool() -> Tool {
    let Value::Object(schema) = crate::prune::args_schema() else {
        unreachable!("a JSON object literal")
    };
    let Value::Object(output) = crate::prune::result_schema() else {
        unreachable!("a JSON object literal")
    };
    let mut tool = Tool::new(PLAN_TAG_CLEANUP, crate::prune::DESCRIPTION, schema);
    tool.title = Some("Plan tag cleanup".into());
    tool.output_schema = Some(Arc::new(output));
    tool.annotations = Some(
        ToolAnnotations::with_title("Plan tag cleanup")
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(true),
    );
    tool
}

/// The tag-cleanup apply: destructive, refused without --allow-write.
fn apply_tool(allow_write: bool) -> Tool {
    let Value::Object(schema) = crate::prune::apply_args_schema() else {
        unreachable!("a JSON object literal")
    };
    let Value::Object(output) = crate::prune::apply_result_schema() else {
        unreachable!("a JSON object literal")
    };
    let mut description = format!(
        "{}\n\nDESTRUCTIVE: this deletes tags on Docker Hub. Show the user the plan's \
         deletes and confirm before calling it.",
        crate::prune::APPLY_DESCRIPTION
    );
    if !allow_write {
        description.push_str(
            "\n\nThis server was started without --allow-write: calling this tool is refused.",
        );
    }
    let mut tool = Tool::new(APPLY_TAG_CLEANUP, description, schema);
    tool.title = Some("Apply tag cleanup".into());
    tool.output_schema = Some(Arc::new(output));
    tool.annotations = Some(
        ToolAnnotations::with_title("Apply tag cleanup")
            .read_only(false)
            .destructive(true)
            .idempotent(true)
            .open_world(true),
    );
    tool
}

fn docs_tool() -> Tool {
    let schema = json!({
        "type": "object",
        "properties": {
            "topic": {
                "type": "string",
                "description": "An operation's name (any alias) or an API area; omit for the whole reference."
            }
        },
        "additionalProperties": false
    });
    let Value::Object(schema) = schema else {
        unreachable!("a JSON object literal")
    };
    let mut tool = Tool::new(
        DOCS_TOOL,
        "The markdown reference of the Docker Hub API: every operation, or one operation with \
         all its parameters.",
        schema,
    );
    tool.title = Some("Docker Hub API reference".into());
    // The reference comes from the component itself: no request leaves the machine.
    tool.annotations = Some(
        ToolAnnotations::with_title("Docker Hub API reference")
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(false),
    );
    tool
}

/// The catalog's argument schema as an MCP input schema. MCP requires an object schema;
/// clients also tend to expect `properties` even when there are none.
fn input_schema(text: &str) -> Result<JsonObject, String> {
    let mut schema: JsonObject = match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err("not a JSON object".into()),
        Err(e) => return Err(e.to_string()),
    };
    match schema.get("type") {
        None => {
            schema.insert("type".into(), "object".into());
        }
        Some(Value::String(t)) if t == "object" => {}
        Some(other) => return Err(format!("type is {other}, not object")),
    }
    schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    Ok(schema)
}

/// The catalog's result schema as an MCP output schema: what `structuredContent` holds after a
/// successful call. MCP requires an object schema, and [`McpServer::call`] passes an object result
/// through and wraps anything else (a list, text, `null`) as `{"result": ...}`; the schema says
/// the same. (A failed call's `structuredContent` is `{"error": ...}` with `isError` set, which
/// MCP leaves outside the output schema.)
fn output_schema(text: &str) -> Result<JsonObject, String> {
    let schema: JsonObject = match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err("not a JSON object".into()),
        Err(e) => return Err(e.to_string()),
    };
    if schema.get("type") == Some(&json!("object")) {
        return Ok(schema);
    }
    let wrapped = json!({
        "type": "object",
        "description": "The result, which is not a JSON object, under `result`.",
        "required": [RESULT_KEY],
        "properties": { RESULT_KEY: schema },
    });
    let Value::Object(wrapped) = wrapped else {
        unreachable!("a JSON object literal")
    };
    Ok(wrapped)
}

/// `list_repository_tags` -> `List repository tags`.
fn title(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// A one- or two-line description of a result for the text channel. The data itself is in
/// `structuredContent`; repeating it here would double what the model has to read.
fn summarize(op: &str, status: u16, pages: u32, body: &Value) -> String {
    match body {
        Value::Object(map) => {
            if let Some(Value::Array(items)) = map.get("results").or_else(|| map.get("Resources")) {
                let total = map
                    .get("count")
                    .or_else(|| map.get("totalResults"))
                    .and_then(Value::as_u64);
                let mut line = format!("{op}: {} item(s)", items.len());
                if let Some(total) = total {
                    line.push_str(&format!(" of {total}"));
                }
                if pages > 1 {
                    line.push_str(&format!(" from {pages} pages"));
                }
                if map.get("next").is_some_and(|n| !n.is_null()) {
                    line.push_str("; more pages exist (pass `page`)");
                }
                let names: Vec<&str> = items.iter().filter_map(item_label).take(10).collect();
                if !names.is_empty() {
                    line.push_str(&format!(": {}", names.join(", ")));
                    if items.len() > names.len() {
                        line.push_str(", ...");
                    }
                }
                line.push_str(". Full result in structuredContent.");
                line
            } else if map.is_empty() {
                format!("{op}: done (HTTP {status}), empty result.")
            } else {
                let label = item_label(body)
                    .map(|l| format!(" `{l}`"))
                    .unwrap_or_default();
                let keys: Vec<&str> = map.keys().map(String::as_str).take(12).collect();
                let more = match map.len() - keys.len() {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                };
                format!(
                    "{op}: HTTP {status}, object{label} with fields {}{more}. Full result in structuredContent.",
                    keys.join(", "),
                )
            }
        }
        Value::Array(items) => format!(
            "{op}: HTTP {status}, {} item(s). Full result in structuredContent.result.",
            items.len()
        ),
        Value::String(s) => format!(
            "{op}: HTTP {status}, {} bytes of text in structuredContent.result.",
            s.len()
        ),
        Value::Null => format!("{op}: done (HTTP {status}), no content."),
        other => format!("{op}: HTTP {status}, {other}."),
    }
}

fn item_label(item: &Value) -> Option<&str> {
    [
        "name",
        "username",
        "token_label",
        "label",
        "id",
        "uuid",
        "email",
    ]
    .iter()
    .find_map(|k| item.get(k).and_then(Value::as_str))
}

fn error_result(e: &CallError) -> CallToolResult {
    let fields = error_fields(e);
    let text = fields
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("error")
        .to_string();
    let mut out = CallToolResult::error(vec![ContentBlock::text(text)]);
    out.structured_content = Some(json!({ "error": fields }));
    out
}

/// A result with `body` as `structuredContent` and `text` as its one content block. (rmcp's
/// `CallToolResult::structured` would first write the whole body out as text, only for that
/// text to be replaced by the summary: a copy of every result, thrown away.)
fn structured(body: Value, text: String) -> CallToolResult {
    let mut out = CallToolResult::success(vec![ContentBlock::text(text)]);
    out.structured_content = Some(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_become_object_schemas_with_properties() {
        let s = input_schema(r#"{"type":"object"}"#).unwrap();
        assert_eq!(s["properties"], json!({}));
        let s = input_schema(r#"{"properties":{"a":{"type":"string"}}}"#).unwrap();
        assert_eq!(s["type"], "object");
        assert!(input_schema(r#"{"type":"array"}"#).is_err());
        assert!(input_schema("[]").is_err());
    }

    #[test]
    fn output_schemas_are_object_schemas_wrapping_what_is_not_an_object() {
        let page = r#"{"type":"object","properties":{"count":{"type":"integer"}}}"#;
        assert_eq!(
            Value::Object(output_schema(page).unwrap()),
            serde_json::from_str::<Value>(page).unwrap()
        );
        for inner in [json!({"type": "null"}), json!({"type": "array"})] {
            let s = output_schema(&inner.to_string()).unwrap();
            assert_eq!(s["type"], "object");
            assert_eq!(s["required"], json!(["result"]));
            assert_eq!(s["properties"]["result"], inner);
        }
        assert!(output_schema("[]").is_err());
        assert!(output_schema("not json").is_err());
    }

    #[test]
    fn summaries_name_items_without_repeating_the_json() {
        let body =
            json!({"count": 7, "next": "x", "results": [{"name": "latest"}, {"name": "edge"}]});
        let text = summarize("list_repository_tags", 200, 1, &body);
        assert!(text.contains("2 item(s) of 7"), "{text}");
        assert!(text.contains("latest, edge"), "{text}");
        assert!(text.contains("more pages"), "{text}");
        assert_eq!(title("get_repository"), "Get repository");
    }
}
