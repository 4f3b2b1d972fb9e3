/* 预算绩效指标库 · the one script of the web interface. Plain JavaScript, no build step, no
 * outside requests: every call goes to this app's JSON API. Pages work without it where they can
 * (search, indicator, library are rendered on the server); it adds type-ahead, login state, and
 * drives the interactive pages (draft, review, library loads, monitoring). */
"use strict";
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  /* ---------- small DOM builder: h("tag.class", {attrs}, children...) ---------- */
  function h(spec, attrs, ...kids) {
    const [tag, ...classes] = spec.split(".");
    const el = document.createElement(tag || "div");
    if (classes.length) el.className = classes.join(" ");
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else if (k in el && typeof v !== "string") el[k] = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false)
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    return el;
  }

  /* ---------- session: the bearer token from /auth/token, kept for this browser tab ---------- */
  const KEY = "zhibiao.session";
  const session = {
    get() {
      try {
        const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
        if (s && s.expires && s.expires < Date.now()) { sessionStorage.removeItem(KEY); return null; }
        return s;
      } catch (e) { return null; }
    },
    set(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); },
    clear() { sessionStorage.removeItem(KEY); },
  };

  function flash(msg, bad) {
    const el = $("#flash");
    if (!el) return;
    el.textContent = msg;
    el.className = "flash" + (bad ? " bad" : "");
    el.hidden = !msg;
  }

  /* ---------- the API client: JSON in, JSON out, Chinese messages on failure ---------- */
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || ("请求失败（HTTP " + status + "）"));
      this.status = status; this.body = body || {}; this.code = this.body.code || "http_" + status;
    }
  }
  async function api(path, opts) {
    opts = opts || {};
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    const s = session.get();
    if (s && s.token) headers.Authorization = "Bearer " + s.token;
    let body = opts.body;
    if (body !== undefined && !(body instanceof FormData) && typeof body !== "string") {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, { method: opts.method || "GET", headers, body, signal: opts.signal });
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new ApiError(0, { code: "network", message: "无法连接服务器，请检查网络后重试" });
    }
    if (opts.raw && res.ok) return res;
    const type = res.headers.get("content-type") || "";
    const data = type.includes("json") ? await res.json().catch(() => null) : null;
    if (!res.ok) {
      if (res.status === 401 && !opts.noAuthRedirect) {
        session.clear();
        flash("登录已过期或尚未登录，请重新登录", true);
        setTimeout(() => { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); }, 800);
      }
      throw new ApiError(res.status, data);
    }
    return data;
  }

  function showError(where, err) {
    const msg = err instanceof ApiError ? err.message : "出现意外错误：" + (err && err.message || err);
    if (where) { where.replaceChildren(h("p.error", { role: "alert", text: msg })); }
    else flash(msg, true);
  }

  function debounce(fn, ms) {
    let t;
    return function (...args) { clearTimeout(t); t = setTimeout(() => fn.apply(this, args), ms); };
  }

  /* ---------- header: who is logged in; navigation by role ---------- */
  const ROLE_NAMES = { admin: "管理员", maintainer: "维护人员", reviewer: "审核人员", unit: "预算单位" };
  function initHeader() {
    const s = session.get();
    const who = $("#who");
    if (who && s) {
      who.replaceChildren(
        h("span", { text: (s.username || "") + (s.role ? "（" + (ROLE_NAMES[s.role] || s.role) + (s.unit_name ? " · " + s.unit_name : "") + "）" : "") }),
        h("button", { type: "button", text: "退出", onclick() { session.clear(); location.href = "/"; } }));
    }
    const role = s && s.role;
    $$("[data-roles]").forEach(el => {
      const allowed = el.dataset.roles.split(" ").includes(role);
      if (el.tagName === "LI") el.hidden = !allowed;
      else el.hidden = !allowed;
    });
  }

  /* ---------- 指标检索: type-ahead over /suggest (characters, pinyin, initials) ---------- */
  function initTypeahead() {
    const input = $("#q"), list = $("#suggestions"), form = $("#search-form");
    if (!input || !list) return;
    let items = [], active = -1, ctrl = null, seq = 0;
    const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; input.removeAttribute("aria-activedescendant"); };
    const choose = (i) => {
      const it = items[i];
      if (!it) return;
      input.value = it.text;
      close();
      form.requestSubmit();
    };
    const mark = (i) => {
      active = i;
      $$("li", list).forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
      if (i >= 0) input.setAttribute("aria-activedescendant", "sugg-" + i); else input.removeAttribute("aria-activedescendant");
    };
    const render = (data, q) => {
      performance.mark("suggest:response");
      items = data.suggestions || [];
      list.replaceChildren(...items.map((it, i) => h("li", {
        id: "sugg-" + i, role: "option", "aria-selected": "false",
        onmousedown(ev) { ev.preventDefault(); choose(i); },
      }, h("span", { text: it.text }), h("span.t", { text: (it.type_name || "") + (it.count > 1 ? " · " + it.count : "") + (it.match ? " · " + it.match : "") }))));
      const open = items.length > 0 && input.value.trim() === q;
      list.hidden = !open;
      input.setAttribute("aria-expanded", String(open));
      active = -1;
      performance.mark("suggest:rendered");
      performance.measure("suggest-render", "suggest:response", "suggest:rendered");
    };
    const fetchSuggest = debounce(async () => {
      const q = input.value.trim();
      if (!q) { close(); return; }
      if (ctrl) ctrl.abort();
      ctrl = new AbortController();
      const my = ++seq;
      try {
        const data = await api("/suggest?limit=8&q=" + encodeURIComponent(q), { signal: ctrl.signal });
        if (my === seq) render(data, q);
      } catch (e) { if (e.name !== "AbortError") close(); }
    }, 120);
    input.addEventListener("input", fetchSuggest);
    input.addEventListener("keydown", (ev) => {
      if (list.hidden) { if (ev.key === "ArrowDown" && items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); mark(0); ev.preventDefault(); } return; }
      if (ev.key === "ArrowDown") { mark((active + 1) % items.length); ev.preventDefault(); }
      else if (ev.key === "ArrowUp") { mark(active <= 0 ? items.length - 1 : active - 1); ev.preventDefault(); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); choose(active); }
      else if (ev.key === "Escape") { close(); ev.preventDefault(); }
    });
    input.addEventListener("blur", () => setTimeout(close, 100));
  }

  /* ---------- 登录 ---------- */
  function initLogin() {
    const form = $("#login-form");
    if (!form) return;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const err = $("#login-error");
      err.hidden = true;
      const btn = form.querySelector("button");
      btn.disabled = true; btn.classList.add("busy");
      try {
        const body = { username: form.username.value.trim(), password: form.password.value };
        const tok = await api("/auth/token", { method: "POST", body, noAuthRedirect: true });
        const s = { token: tok.access_token, username: body.username, expires: Date.now() + (tok.expires_in || 3600) * 1000,
                    role: tok.role, unit: tok.unit, unit_name: tok.unit_name };
        session.set(s);
        if (!s.role) {  // older servers: ask who we are
          try { const me = await api("/auth/me"); Object.assign(s, { role: me.role, unit: me.unit, unit_name: me.unit_name }); session.set(s); } catch (e) { /* role stays unknown */ }
        }
        const next = new URLSearchParams(location.search).get("next");
        const home = { unit: "/draft", reviewer: "/review", maintainer: "/library#loads", admin: "/review" }[s.role] || "/";
        location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : home;
      } catch (e) {
        err.textContent = e.status === 401 || e.status === 400 ? "用户名或密码不正确" : e.message;
        err.hidden = false;
      } finally { btn.disabled = false; btn.classList.remove("busy"); }
    });
  }

  const pages = {};
  window.Zhibiao = { $, $$, h, api, session, flash, showError, debounce, ApiError, pages };

  document.addEventListener("DOMContentLoaded", () => {
    initHeader();
    initTypeahead();
    initLogin();
    const page = document.body.dataset.page;
    if (pages[page]) pages[page]();
  });
})();
