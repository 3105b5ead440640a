//! The sandbox and its limits, on a state with everything but the Hub namespaces.

use super::*;
use std::time::Instant;

/// A sandboxed state as a run has it, minus `app` and `docs`; its limits and collected output.
fn state(time_limit: Duration) -> (Lua, Rc<Limits>, Rc<RefCell<String>>) {
    let options = LuaOptions {
        time_limit,
        ..LuaOptions::default()
    };
    let limits = Rc::new(Limits::new(time_limit, options.memory_limit));
    let (lua, _) = sandbox(&options, &limits).unwrap();
    let output = Rc::new(RefCell::new(String::new()));
    install_libraries(&lua, Sink::Capture(output.clone()), &limits).unwrap();
    (lua, limits, output)
}

/// `code` must end soon after a 200 ms time limit, with the time limit's error.
fn ends_at_the_time_limit(code: &str) {
    let (lua, limits, _) = state(Duration::from_millis(200));
    let started = Instant::now();
    let err = lua.load(code).exec().unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{code}: took {took:?}");
    let message = limits.stopped().unwrap_or_else(|| panic!("{code}: {err}"));
    assert_eq!(message, "the script ran past its time limit of 0.2 s");
    assert!(err.to_string().contains(&message), "{code}: {err}");
}

#[test]
fn sandbox_has_no_escape_hatches() {
    let (lua, _, _) = state(Duration::from_secs(60));
    let missing: bool = lua
        .load(
            "return os == nil and io == nil and package == nil and debug == nil \
             and dofile == nil and loadfile == nil and require == nil and string.dump == nil \
             and load('\\27Lua', 'x', 'b') == nil",
        )
        .eval()
        .unwrap();
    assert!(missing);
}

#[test]
fn catching_the_time_limit_does_not_dodge_it() {
    for code in [
        r#"local x <close> = setmetatable({}, { __close = function() while true do end end })
           while true do end"#,
        "while true do pcall(function() while true do end end) end",
        "while true do pcall(pcall, function() while true do end end) end",
        "while true do xpcall(function() while true do end end, function(e) return e end) end",
        "while true do xpcall(function() while true do end end, function() while true do end end) end",
        "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
        "while true do pcall(coroutine.wrap(function() while true do end end)) end",
        r#"while true do
             local co = coroutine.create(function()
               local x <close> = setmetatable({}, { __close = function() while true do end end })
               coroutine.yield()
             end)
             coroutine.resume(co)
             coroutine.close(co)
           end"#,
        r#"local co = coroutine.create(function()
             local x <close> = setmetatable({}, { __close = function() while true do end end })
             while true do end
           end)
           local guard <close> = setmetatable({}, { __close = function() coroutine.close(co) end })
           coroutine.resume(co)"#,
        r#"coroutine.wrap(function()
             local x <close> = setmetatable({}, { __close = function() while true do end end })
             while true do end
           end)()"#,
        "while true do load(function() while true do end end) end",
        "while true do pcall(string.gsub, 'abc', '%w', function() while true do end end) end",
        "while true do pcall(error, setmetatable({}, { __tostring = function() while true do end end })) end",
    ] {
        ends_at_the_time_limit(code);
    }
}

#[test]
fn c_loops_the_hook_cannot_see_are_bounded() {
    for code in [
        r#"string.find(("a"):rep(40), ("a*"):rep(12) .. "b")"#,
        r#"while true do pcall(string.match, ("a"):rep(40), ("a*"):rep(12) .. "b") end"#,
        "table.move({}, 1, math.maxinteger - 1, 2)",
        "table.move({}, -10, 1 << 62, 1, {})",
        "table.insert(setmetatable({}, { __len = function() return math.maxinteger - 1 end }), 1, 'x')",
        "table.remove(setmetatable({}, { __len = function() return math.maxinteger - 1 end }), 1)",
    ] {
        ends_at_the_time_limit(code);
    }
    // Repeating nothing any number of times is nothing, at once.
    let (lua, _, _) = state(Duration::from_secs(60));
    let empty: bool = lua
        .load(r#"return ("").rep("", math.maxinteger) == "" and string.rep("", 1e18, "") == """#)
        .eval()
        .unwrap();
    assert!(empty);
}

#[test]
fn guarded_functions_keep_their_meaning() {
    let (lua, _, _) = state(Duration::from_secs(60));
    let code = r#"
        local t = setmetatable({ 1, 2, 3 }, {})
        table.insert(t, 1, 0)
        table.insert(t, 9)
        local removed = table.remove(t, 2)
        local last = table.remove(t)
        local moved = table.move({ 1, 2, 3 }, 1, 3, 2)
        local big = {}
        for i = 1, 70000 do big[i] = i end
        table.move(big, 1, 70000, 3)
        local ok, err = pcall(error, { code = 7 })
        local ok2, err2 = xpcall(error, function(e) return "handled " .. e end, "boom", 0)
        local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
        local _, first = coroutine.resume(co, 1)
        local _, second = coroutine.resume(co, 5)
        local rep = ("ab"):rep(3, ",")
        local bad_insert = select(2, pcall(table.insert, setmetatable({}, {}), 5, 1))
        return table.concat(t, ","), removed, last, table.concat(moved, ","),
          big[70002], big[3], big[2], ok, err.code, ok2, err2, first, second, rep,
          bad_insert
    "#;
    let values: Vec<LuaValue> = lua.load(code).eval::<MultiValue>().unwrap().into_vec();
    let shown: Vec<String> = values
        .iter()
        .map(|v| v.to_string().unwrap_or_default())
        .collect();
    assert_eq!(
        shown,
        [
            "0,2,3",
            "1",
            "9",
            "1,1,2,3",
            "70000",
            "1",
            "2",
            "false",
            "7",
            "false",
            "handled boom",
            "2",
            "10",
            "ab,ab,ab",
            "bad argument #2 to 'insert' (position out of bounds)",
        ]
    );
}

#[test]
fn argument_errors_name_the_function_the_script_called() {
    let (lua, _, _) = state(Duration::from_secs(60));
    let message: String = lua
        .load(r#"return select(2, pcall(string.rep, "x", 1.5))"#)
        .eval()
        .unwrap();
    assert!(
        message.ends_with("bad argument #2 to 'rep' (number has no integer representation)"),
        "{message}"
    );
}

#[test]
fn finalizers_are_refused_because_hooks_do_not_run_in_them() {
    let (lua, limits, _) = state(Duration::from_secs(60));
    let err = lua
        .load("setmetatable({}, { __gc = function() while true do end end })")
        .exec()
        .unwrap_err();
    assert!(err.to_string().contains("__gc"), "{err}");
    assert!(limits.stopped().is_none());
    lua.load("setmetatable({}, { __index = {} })")
        .exec()
        .unwrap();
}

#[test]
fn conversions_stop_at_their_bound() {
    let (lua, limits, output) = state(Duration::from_secs(60));
    let shared = "local t = { 1 } for i = 1, 22 do t = { t, t } end";
    let started = Instant::now();
    for (code, what) in [
        ("return #json.encode(t)", "json.encode's value"),
        ("dump(t)", "dump's value"),
        (
            "return json.decode('[' .. ('[],'):rep(3000000) .. '[]]')",
            "json.decode's value",
        ),
    ] {
        let err = lua.load(format!("{shared} {code}")).exec().unwrap_err();
        let hit = limit_hit(&err).unwrap_or_else(|| panic!("{code}: {err}"));
        assert!(
            hit.0
                .starts_with(&format!("{what} passed the JSON conversion bound")),
            "{hit}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    // The script may catch these: they stop one call, not the run.
    let caught: bool = lua
        .load(format!(
            "{shared} return not pcall(json.encode, t) and json.encode({{1}}) == '[1]'"
        ))
        .eval()
        .unwrap();
    assert!(caught);
    assert!(limits.stopped().is_none());
    assert_eq!(*output.borrow(), "");
}

#[test]
fn collected_output_is_capped() {
    let (lua, limits, output) = state(Duration::from_secs(60));
    let err = lua
        .load(
            r#"local s = ("x"):rep(1 << 20)
               for i = 1, 100 do pcall(print, s) end
               print("after")"#,
        )
        .exec()
        .unwrap_err();
    let message = "the script's output passed its cap of 16 MiB";
    assert!(err.to_string().contains(message), "{err}");
    assert_eq!(limits.stopped().as_deref(), Some(message));
    let collected = output.borrow().len();
    assert!((15 << 20..=16 << 20).contains(&collected), "{collected}");
}

#[test]
fn error_fields_name_the_limit() {
    let (lua, _, _) = state(Duration::from_secs(60));
    let options = LuaOptions::default();
    let error = LuaValue::Error(Box::new(limit_error(
        "json.encode's value passed the bound",
    )));
    let fields = lua_error_fields(&lua, error, &options);
    assert_eq!(fields["kind"], "limit");
    assert_eq!(fields["message"], "json.encode's value passed the bound");
    let out_of_memory = LuaValue::String(lua.create_string("not enough memory").unwrap());
    let fields = lua_error_fields(&lua, out_of_memory, &options);
    assert_eq!(fields["kind"], "limit");
    assert_eq!(
        fields["message"],
        "the script passed its memory limit of 256 MiB (not enough memory)"
    );
}

#[test]
fn slow_instructions_do_not_delay_the_limit() {
    // Each comparison of two distinct 64 MiB strings is one VM instruction of milliseconds; a
    // fixed count of instructions between looks at the clock would be seconds apart.
    let code = r#"local a = ("a"):rep(1 << 16):rep(1 << 10)
                  local b = ("a"):rep(1 << 16):rep(1 << 10)
                  while true do local same = a == b end"#;
    let limit = Duration::from_secs(1);
    let (lua, limits, _) = state(limit);
    let started = Instant::now();
    let err = lua.load(code).exec().unwrap_err();
    let late = started.elapsed().saturating_sub(limit);
    assert!(limits.stopped().is_some(), "{err}");
    assert!(late < Duration::from_millis(300), "{late:?} late");
}

#[test]
fn the_call_options_table_takes_page_concurrency_and_names_a_bad_one() {
    let lua = Lua::new();
    let table: Table = lua
        .load("return {all_pages = true, page_concurrency = 8, max_pages = 3}")
        .eval()
        .unwrap();
    let options = call_options_from(table).unwrap();
    assert!(options.all_pages);
    assert_eq!(
        (options.page_concurrency, options.max_pages),
        (Some(8), Some(3))
    );
    for bad in [
        "{page_concurrency = 0}",
        "{page_concurrency = 1.5}",
        "{pages = 2}",
    ] {
        let table: Table = lua.load(format!("return {bad}")).eval().unwrap();
        let (argument, _) = call_options_from(table).unwrap_err();
        assert!(argument.starts_with("options."), "{bad}: {argument}");
    }
}
