/*
 * govqa chat widget — plain JavaScript, no build step, no external requests.
 *
 *   <script src="http://HOST:8000/widget.js" data-title="政府工作报告问答" data-lang="zh"></script>
 *
 * adds a floating chat bubble to the page. The bubble opens the chat page /embed of the govqa server in an
 * iframe, so it works on any site with no CORS set-up: the questions go from that page to its own server,
 * and the embedding page can neither read nor change them. Options (data-* attributes on the script tag):
 *   data-title    panel title
 *   data-lang     "zh" (default) or "en": the widget's own labels
 *   data-api-key  an API key, when the server requires one (it is visible to visitors: use a user key)
 *   data-api      the API's base URL (default: the origin the script was loaded from)
 *   data-mode     "bubble" (default) or "page" (fills the window; used by /embed)
 * Everything lives in a shadow root, so the page's CSS and the widget's never meet. In page mode (/embed)
 * answers stream from POST /v1/ask (server-sent events); citations show as "title › heading" with the
 * quoted text, and a refusal ("the reports don't say") is drawn differently from an answer.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__govqaWidgetLoaded) return;
  window.__govqaWidgetLoaded = true;

  var STRINGS = {
    zh: {
      title: "政府工作报告问答",
      placeholder: "输入问题，例如：某年的税收收入是多少？",
      send: "发送",
      open: "打开问答",
      close: "关闭",
      thinking: "正在检索报告……",
      refused: "报告中未找到依据",
      sources: "出处",
      related: "相关段落",
      error: "出错了：",
      offline: "无法连接到问答服务（{api}）。请确认服务正在运行、地址正确。",
      needKey: "该服务需要访问密钥：请在嵌入代码中设置 data-api-key。",
      busy: "请求过多，请稍后再试。",
      hint: "回答引自报告原文，并标注出处。",
    },
    en: {
      title: "Ask the government work reports",
      placeholder: "Ask a question, e.g. What was the tax revenue in 2019?",
      send: "Send",
      open: "Open the Q&A",
      close: "Close",
      thinking: "Searching the reports…",
      refused: "Not found in the reports",
      sources: "Sources",
      related: "Related passages",
      error: "Error: ",
      offline: "Cannot reach the Q&A service at {api}: check that it is running and the address is right.",
      needKey: "This service needs an API key: set data-api-key on the embed code.",
      busy: "Too many requests: please try again shortly.",
      hint: "Answers quote the reports and cite where each quote comes from.",
    },
  };

  var ds = script.dataset;
  var mode = ds.mode === "page" ? "page" : "bubble";
  var query = new URLSearchParams(window.location.search);
  var fragment = new URLSearchParams(window.location.hash.slice(1));
  var lang = (ds.lang || (mode === "page" && query.get("lang")) || "zh") === "en" ? "en" : "zh";
  var T = STRINGS[lang];
  var title = ds.title || (mode === "page" && query.get("title")) || T.title;
  var apiKey = ds.apiKey || (mode === "page" && fragment.get("key")) || "";
  var bare = mode === "page" && query.get("bare") === "1"; // inside the bubble's iframe: no own header
  var api = (ds.api || new URL(script.src, window.location.href).origin).replace(/\/+$/, "");
  var history = [];
  var MAX_HISTORY = 6;

  var CSS = [
    ":host { all: initial; }",
    ".gq { font: 14px/1.55 system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif; color: #1d2733; }",
    ".gq *, .gq *::before, .gq *::after { box-sizing: border-box; }",
    ".bubble { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;",
    "  background: #1f5fa8; color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483000; }",
    ".bubble:focus-visible, button:focus-visible, textarea:focus-visible { outline: 3px solid #f0b429; outline-offset: 2px; }",
    ".bubble svg { width: 28px; height: 28px; vertical-align: middle; }",
    ".panel { position: fixed; right: 20px; bottom: 88px; width: min(400px, calc(100vw - 24px)); height: min(600px, calc(100vh - 110px));",
    "  display: flex; flex-direction: column; background: #fff; border-radius: 12px; overflow: hidden;",
    "  box-shadow: 0 8px 30px rgba(0,0,0,.28); z-index: 2147483000; }",
    ".panel[hidden] { display: none; }",
    ".gq.mode-page .panel { inset: 0; width: auto; height: auto; border-radius: 0; box-shadow: none; }",
    ".panel iframe { flex: 1; width: 100%; border: 0; background: #f5f7fa; }",
    "@media (max-width: 480px) { .gq.mode-bubble .panel { left: 12px; right: 12px; width: auto; bottom: 84px; height: calc(100vh - 100px); } }",
    "header { display: flex; align-items: center; justify-content: space-between; padding: 10px 14px; background: #1f5fa8; color: #fff; }",
    "header .title { font-weight: 600; font-size: 15px; }",
    "header button { background: transparent; border: 0; color: #fff; font-size: 22px; line-height: 1; cursor: pointer; padding: 2px 6px; }",
    ".log { flex: 1; overflow-y: auto; padding: 12px; background: #f5f7fa; }",
    ".hint { color: #5b6776; font-size: 12px; margin: 0 0 10px; }",
    ".msg { margin: 0 0 10px; padding: 8px 11px; border-radius: 10px; max-width: 92%; white-space: pre-wrap; word-wrap: break-word; }",
    ".user { margin-left: auto; background: #1f5fa8; color: #fff; }",
    ".bot { background: #fff; border: 1px solid #dde3ea; }",
    ".bot.pending .text { color: #5b6776; font-style: italic; }",
    ".bot.refused { background: #fff8e6; border: 1px solid #f0c36d; border-left: 4px solid #e0a100; }",
    ".badge { display: inline-block; font-size: 12px; font-weight: 600; color: #8a5a00; background: #ffe7a8; border-radius: 4px; padding: 0 6px; margin-bottom: 4px; }",
    ".error { background: #fdecea; border: 1px solid #f5b7b1; color: #8e1b10; }",
    "sup.ref { color: #1f5fa8; font-weight: 600; cursor: default; }",
    ".cites { margin: 8px 0 0; padding: 0; list-style: none; border-top: 1px solid #e6ebf0; white-space: normal; }",
    ".cites h4 { margin: 6px 0 4px; font-size: 12px; color: #5b6776; font-weight: 600; }",
    ".cites li { margin: 0 0 8px; font-size: 13px; }",
    ".cites .where { font-weight: 600; color: #1d2733; }",
    ".cites blockquote { margin: 3px 0 0; padding: 4px 8px; border-left: 3px solid #1f5fa8; background: #f1f5fb; color: #2b3a4a; }",
    ".refused .cites blockquote { border-left-color: #e0a100; background: #fffdf5; }",
    ".cites .src { color: #7a8694; font-size: 11px; }",
    "form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #dde3ea; background: #fff; }",
    "textarea { flex: 1; resize: none; font: inherit; padding: 7px 9px; border: 1px solid #c5ced8; border-radius: 8px; min-height: 40px; max-height: 120px; color: inherit; background: #fff; }",
    "form button { border: 0; border-radius: 8px; background: #1f5fa8; color: #fff; padding: 0 16px; font: inherit; cursor: pointer; }",
    "form button:disabled { background: #9db4cf; cursor: wait; }",
  ].join("\n");

  var ICON =
    '<svg viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2z"/></svg>';

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // --- server-sent events over fetch ------------------------------------------------------------------
  function parseEvent(raw) {
    var event = "message";
    var data = [];
    raw.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") return;
      var i = line.indexOf(":");
      var field = i < 0 ? line : line.slice(0, i);
      var value = i < 0 ? "" : line.slice(i + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    });
    return { event: event, data: data.join("\n") };
  }

  async function errorMessage(res) {
    try {
      var body = await res.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (e) {
      /* not JSON */
    }
    return "HTTP " + res.status;
  }

  async function askStream(question, onEvent) {
    var headers = { "Content-Type": "application/json", Accept: "text/event-stream" };
    if (apiKey) headers.Authorization = "Bearer " + apiKey;
    var res = await fetch(api + "/v1/ask", {
      method: "POST",
      headers: headers,
      body: JSON.stringify({ question: question, history: history.slice(-MAX_HISTORY), stream: true }),
    });
    if (!res.ok) {
      var why = await errorMessage(res);
      if (res.status === 401) why = T.needKey + " (" + why + ")";
      else if (res.status === 429) why = T.busy + " (" + why + ")";
      throw new Error(why);
    }
    var buffer = "";
    var flush = function (final) {
      buffer = buffer.replace(/\r\n?/g, "\n");
      var cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        var raw = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (raw.trim()) onEvent(parseEvent(raw));
      }
      if (final && buffer.trim()) onEvent(parseEvent(buffer));
    };
    if (!res.body || !res.body.getReader) {
      buffer = await res.text();
      flush(true);
      return;
    }
    var reader = res.body.getReader();
    var decoder = new TextDecoder("utf-8");
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      flush(false);
    }
    buffer += decoder.decode();
    flush(true);
  }

  // --- rendering --------------------------------------------------------------------------------------
  function renderText(node, text) {
    // "[n]" markers become superscripts; everything else stays plain text (never HTML)
    node.textContent = "";
    var parts = String(text).split(/(\[\d+\])/);
    parts.forEach(function (part) {
      if (/^\[\d+\]$/.test(part)) node.appendChild(el("sup", "ref", part));
      else if (part) node.appendChild(document.createTextNode(part));
    });
  }

  function where(item) {
    var bits = [item.title, item.heading].filter(function (x) {
      return x;
    });
    return bits.length ? bits.join(" › ") : item.source || "";
  }

  function renderCitations(box, heading, items, quoteKey) {
    if (!items || !items.length) return;
    var list = el("ul", "cites");
    list.appendChild(el("h4", null, heading));
    items.forEach(function (item) {
      var li = el("li");
      var label = item.n !== undefined ? "[" + item.n + "] " : "• ";
      li.appendChild(el("span", "where", label + where(item)));
      var quote = String(item[quoteKey] || "");
      if (quoteKey === "text" && quote.length > 160) quote = quote.slice(0, 160) + "…";
      li.appendChild(el("blockquote", null, quote));
      if (item.source) li.appendChild(el("span", "src", item.source));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function build(root) {
    var style = el("style");
    style.textContent = CSS;
    root.appendChild(style);
    var wrap = el("div", "gq mode-" + mode);
    wrap.setAttribute("lang", lang === "zh" ? "zh-CN" : "en");
    root.appendChild(wrap);

    var panel = el("section", "panel");
    panel.setAttribute("role", mode === "page" ? "main" : "dialog");
    panel.setAttribute("aria-label", title);
    var header = el("header");
    header.appendChild(el("span", "title", title));

    if (mode === "bubble") {
      var bubble = el("button", "bubble");
      bubble.type = "button";
      bubble.innerHTML = ICON; // a constant, not user data
      bubble.setAttribute("aria-label", T.open);
      bubble.setAttribute("aria-expanded", "false");
      var close = el("button", null, "×");
      close.type = "button";
      close.setAttribute("aria-label", T.close);
      header.appendChild(close);
      panel.appendChild(header);
      var frame = null;
      panel.hidden = true;
      var toggle = function (open) {
        if (open && !frame) {
          // the chat itself is the server's /embed page: same-origin calls there, nothing for CORS
          frame = el("iframe");
          frame.title = title;
          var src = api + "/embed?bare=1&lang=" + lang + "&title=" + encodeURIComponent(title);
          if (apiKey) src += "#key=" + encodeURIComponent(apiKey);
          frame.src = src;
          frame.setAttribute("referrerpolicy", "no-referrer");
          panel.appendChild(frame);
        }
        panel.hidden = !open;
        bubble.setAttribute("aria-expanded", String(open));
        if (open) frame.focus();
        else bubble.focus();
      };
      bubble.addEventListener("click", function () {
        toggle(panel.hidden);
      });
      close.addEventListener("click", function () {
        toggle(false);
      });
      panel.addEventListener("keydown", function (e) {
        if (e.key === "Escape") toggle(false);
      });
      wrap.appendChild(bubble);
      wrap.appendChild(panel);
      return;
    }

    var log = el("div", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.appendChild(el("p", "hint", T.hint));
    var form = el("form");
    var input = el("textarea");
    input.rows = 2;
    input.placeholder = T.placeholder;
    input.setAttribute("aria-label", T.placeholder);
    var send = el("button", null, T.send);
    send.type = "submit";
    form.appendChild(input);
    form.appendChild(send);
    if (!bare) panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(form);
    wrap.appendChild(panel);

    function scroll() {
      log.scrollTop = log.scrollHeight;
    }

    async function submit() {
      var question = input.value.trim();
      if (!question || send.disabled) return;
      input.value = "";
      send.disabled = true;
      log.appendChild(el("div", "msg user", question));
      var box = el("div", "msg bot pending");
      var text = el("div", "text", T.thinking);
      box.appendChild(text);
      log.appendChild(box);
      scroll();
      var streamed = "";
      var done = false;
      try {
        await askStream(question, function (ev) {
          var data;
          try {
            data = ev.data ? JSON.parse(ev.data) : null;
          } catch (e) {
            return;
          }
          if (ev.event === "delta" && data) {
            if (!streamed) box.classList.remove("pending");
            streamed += data.text || "";
            text.textContent = streamed;
          } else if (ev.event === "done" && data) {
            done = true;
            box.classList.remove("pending");
            if (data.refused) {
              box.classList.add("refused");
              box.insertBefore(el("div", "badge", T.refused), text);
            }
            renderText(text, data.answer || streamed);
            renderCitations(box, T.sources, data.citations, "quote");
            if (data.refused) renderCitations(box, T.related, (data.related || []).slice(0, 3), "text");
            history.push([question, data.answer || streamed]);
          } else if (ev.event === "error") {
            throw new Error((data && data.error && data.error.message) || "error");
          }
          scroll();
        });
        if (!done) throw new Error("the answer was cut off");
      } catch (err) {
        box.className = "msg error";
        // fetch rejects with a TypeError when the server cannot be reached at all
        var message = err instanceof TypeError ? T.offline.replace("{api}", api) : err && err.message;
        box.textContent = T.error + (message || String(err));
      } finally {
        send.disabled = false;
        scroll();
        input.focus();
      }
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      submit();
    });
    input.addEventListener("keydown", function (e) {
      // Enter sends; Shift+Enter is a new line; never while an IME is composing (Chinese input)
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    });
    if (mode === "page") input.focus();
  }

  function mount() {
    var host = el("div");
    host.id = "govqa-widget";
    document.body.appendChild(host);
    build(host.attachShadow({ mode: "open" }));
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
