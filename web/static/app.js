/* 预算绩效指标库 · the one script of the web interface. Plain JavaScript, no build step, no
 * outside requests: every call goes to this app's JSON API. Pages work without it where they can
 * (search, indicator, library are rendered on the server); it adds type-ahead, login state, and
 * drives the interactive pages (draft, review, library loads, monitoring). */
"use strict";
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  /* ---------- small DOM builder: h("tag#id.class", {attrs}, children...) ---------- */
  function h(spec, attrs, ...kids) {
    const tag = spec.split(/[.#]/)[0] || "div", id = (/#([\w-]+)/.exec(spec) || [])[1];
    const classes = Array.from(spec.matchAll(/\.([\w-]+)/g), m => m[1]);
    const el = document.createElement(tag);
    if (id) el.id = id;
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
    clearTimeout(flash.timer);
    if (msg && !bad) flash.timer = setTimeout(() => { el.hidden = true; }, 5000);
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
      // and to the next frame, when the list is on screen (bench/ui_bench.py reports both)
      requestAnimationFrame(() => { performance.mark("suggest:painted"); performance.measure("suggest-paint", "suggest:response", "suggest:painted"); });
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
                    role: (tok.user || {}).role, unit: (tok.user || {}).unit };
        session.set(s);
        if (!s.role) {  // older servers: ask who we are
          try { const me = await api("/auth/me"); Object.assign(s, { role: me.role, unit: me.unit }); session.set(s); } catch (e) { /* role stays unknown */ }
        }
        if (s.unit) {  // show the unit's name in the header
          try { const u = await api("/units?limit=500"); const mine = (u.items || []).find(x => x.code === s.unit); if (mine) { s.unit_name = mine.name; session.set(s); } } catch (e) { /* the code is enough */ }
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

/* ====================== 目标编制 draft ======================
 * pick or create a project → recommended set grouped by 一级/二级 with reasons → edit rows with
 * flags from a debounced /targets/check beside each row (suggested rewrite adoptable in one click)
 * → save (PUT targets), submit → download the 申报表; upload one to continue from it. */
(function () {
  const { $, $$, h, api, session, flash, showError, debounce, ApiError, pages } = window.Zhibiao;
  const STATUS = { draft: "草稿", submitted: "已提交", returned: "已退回", resubmitted: "再次提交", approved: "已通过" };
  const ACTIONS = { create: "创建", submit: "提交", return: "退回", resubmit: "再次提交", approve: "通过", reopen: "重新编辑" };

  /* "改为 「培训考核合格率 ≥ 95%」（指标库 IND-…）" → {name, value, id}; null when nothing to adopt */
  function parseSuggestion(text) {
    const m = /「([^」]+)」/.exec(text || "");
    if (!m) return null;
    const id = (/指标库(?:同类指标)?\s*((?:IND|G)-[A-Za-z0-9-]+)/.exec(text) || [])[1] || null;
    const t = m[1].trim();
    const op = /^(.+?)\s*(≥|≤|=|＝|>|<|≠)\s*(.+)$/.exec(t);
    if (op) return { name: op[1].trim(), value: (op[2] === "=" || op[2] === "＝" ? "" : op[2]) + op[3].replace(/\s+/g, ""), id };
    const move = /^移到「(.+?)—(.+?)」下/.exec(text);
    if (move) return { level1: move[1], level2: move[2] };
    return { name: t, value: "", id };
  }
  function parseMove(text) {
    const move = /移到「(.+?)—(.+?)」下/.exec(text || "");
    return move ? { level1: move[1], level2: move[2] } : null;
  }
  function splitUnit(value, unit) {
    // "≥95%" with the unit given elsewhere stays as typed; a bare unit suffix fills an empty unit cell
    if (unit) return { value, unit };
    const m = /^([≥≤<>=]?\s*[\d.,]+)\s*([^\d\s.,][^\d]*)$/.exec(value || "");
    return m ? { value: m[1].replace(/\s+/g, ""), unit: m[2] } : { value, unit: "" };
  }

  pages.draft = function () {
    const app = $("#draft-app");
    const s = session.get();
    if (!s || s.role !== "unit") {
      $("#need-login").hidden = false;
      if (s && s.role) $("#need-login").textContent = "目标编制由预算单位账号完成；当前账号的角色不能编制目标表。";
      app.hidden = true;
      return;
    }
    const cats = JSON.parse(app.dataset.categories).map(g => ({ name: g.name, subs: g.categories.filter(c => c.use === "target").map(c => c.name) })).filter(g => g.subs.length);
    const st = { project: null, revision: 0, rows: [], review: null, rowComments: {}, dirty: false };
    const sel = $("#project-select");

    async function loadProjects(selectId) {
      try {
        const data = await api("/projects?limit=200" + (s.unit ? "&unit=" + encodeURIComponent(s.unit) : ""));
        const items = (data.items || []).slice().sort((a, b) => (b.updated_at || "").localeCompare(a.updated_at || ""));
        sel.replaceChildren(h("option", { value: "", text: items.length ? "（请选择项目）" : "（还没有项目，请新建）" }),
          ...items.map(p => h("option", { value: p.id, text: p.name + " · " + p.year + " · " + (STATUS[p.status] || p.status) })));
        if (selectId) { sel.value = selectId; await openProject(selectId); }
        else if (!items.length) $("#project-form").hidden = false;
      } catch (e) { showError($("#project-info"), e); }
    }

    async function openProject(id) {
      if (!id) return;
      const info = $("#project-info");
      info.replaceChildren(h("p.muted.busy", { text: "正在加载项目" }));
      try {
        const p = await api("/projects/" + encodeURIComponent(id));
        st.project = p;
        const t = p.table;
        st.revision = t ? t.revision : (p.revision || 0);
        st.rows = t ? t.rows.map(r => ({ level1: r.level1, level2: r.level2, name: r.name, value: r.value, unit: r.unit || "", basis: r.basis || "" })) : [];
        st.review = t ? t.review : null;
        st.rowComments = {};
        st.projectType = null;
        $("#rec-list").replaceChildren(); $("#rec-status").replaceChildren();
        (t && t.row_comments || []).forEach(c => { st.rowComments[c.row] = c.comment; });
        $("#goal-period").value = t && t.goals ? t.goals.period || "" : "";
        $("#goal-annual").value = t && t.goals ? t.goals.annual || "" : "";
        info.replaceChildren(h("p", {}, h("strong", { text: p.name }), "　", h("span.status." + p.status, { text: STATUS[p.status] || p.status }),
          "　金额 " + Number(p.amount || 0).toLocaleString("zh-CN") + " 元 · " + p.year + " 年度 · 修订 " + st.revision));
        const ret = $("#return-note");
        ret.replaceChildren();
        if (t && t.return_comment) ret.append(h("p.comment", { role: "note" }, h("strong", { text: "审核意见：" }), t.return_comment));
        for (const sec of ["#rec-panel", "#table-panel", "#save-panel"]) $(sec).hidden = false;
        renderRows();
        renderReview();
        updateButtons();
        loadHistory();
        if (!st.rows.length) $("#recommend-btn").focus();
      } catch (e) { showError(info, e); }
    }

    function editable() { return st.project && !["submitted", "resubmitted"].includes(st.project.status); }
    function updateButtons() {
      const p = st.project;
      $("#save-btn").disabled = !editable();
      $("#submit-btn").disabled = !p || !["draft", "returned"].includes(p.status) || st.dirty || !st.revision;
      $("#download-btn").disabled = !p || !st.revision;
      $("#submit-btn").title = st.dirty ? "请先保存" : "";
    }

    /* ---- recommendations ---- */
    /* the project type is inferred by the recommender; the unit confirms it or picks another candidate,
     * which re-runs the recommendation and is saved with the table ("project_type") */
    $("#recommend-btn").addEventListener("click", () => recommend(st.projectType || st.project.project_type, true));
    async function recommend(projectType, fresh) {
      const p = st.project, out = $("#rec-list"), status = $("#rec-status");
      if (fresh) status.textContent = "正在推荐…";
      out.replaceChildren(h("progress", { "aria-label": "正在推荐" }));
      try {
        const r = await api("/recommend", { method: "POST", body: { project: p.name, description: p.description || "", sector: p.sector || null, project_type: projectType || null, amount: p.amount || null, period: String(p.year || "") } });
        if (fresh || !$("#pt-select")) {
          const cands = r.project_types || [];
          const choose = h("select#pt-select", { "aria-label": "项目类型" }, ...cands.map(x => h("option", { value: x.id, text: x.name + "（" + x.sector + " → " + x.field + "）", selected: x.selected })));
          choose.addEventListener("change", () => { st.projectType = choose.value; recommend(choose.value); });
          status.replaceChildren(cands.length ? h("span", {}, h("label", { for: "pt-select", text: "项目类型 " }), choose, " （推断结果，可更换）") : "");
        }
        const byL1 = new Map();
        for (const g of r.groups || []) { if (!byL1.has(g.level1)) byL1.set(g.level1, []); byL1.get(g.level1).push(g); }
        let n = 0;
        const form = h("form#rec-form", { onsubmit(ev) { ev.preventDefault(); adopt(); } });
        const chosen = [];
        for (const [l1, groups] of byL1) {
          const fs = h("fieldset", {}, h("legend", { text: l1 }));
          for (const g of groups) {
            fs.append(h("h3", { text: g.level2 }));
            for (const ind of g.indicators) {
              const i = n++;
              chosen[i] = ind;
              fs.append(h("div.rec", {}, h("input", { type: "checkbox", id: "rec-" + i, checked: true, value: String(i) }),
                h("label", { for: "rec-" + i }, h("span", { text: ind.name + "　" + (ind.suggested_value || "") }), h("span.reason", { text: ind.reason || "" }))));
            }
          }
          form.append(fs);
        }
        function adopt() {
          const picked = $$("input[type=checkbox]:checked", form).map(c => chosen[+c.value]);
          const have = new Set(st.rows.map(r => r.name));
          for (const ind of picked) {
            if (have.has(ind.name)) continue;
            const sv = splitUnit((ind.suggested_value || "").replace(/\s+/g, ""), "");
            let value = sv.value, unit = ind.unit || sv.unit || "";
            if (unit && value.endsWith(unit)) value = value.slice(0, -unit.length);
            st.rows.push({ level1: ind.level1, level2: ind.level2, name: ind.name, value, unit, basis: ind.basis || "" });
          }
          if (!$("#goal-annual").value && r.goals) { /* goals are the unit's own words */ }
          st.dirty = true;
          renderRows(); scheduleCheck(); updateButtons();
          flash("已采用 " + picked.length + " 个推荐指标，请核对指标值后保存");
          const first = $("#rows input.name"); if (first) first.focus();
        }
        form.append(h("div.toolbar", {}, h("button", { type: "submit", text: "采用选中的指标" }), h("span.muted", { text: "共 " + n + " 个推荐，可取消勾选不需要的" })));
        out.replaceChildren(n ? form : h("p.empty", { text: "没有找到可推荐的指标，请补充项目说明后重试" }));
      } catch (e) { showError(out, e); }
    }

    /* ---- rows ---- */
    function rowEl(r, i) {
      const l1 = h("select.l1", { "aria-label": "第 " + (i + 1) + " 行一级指标" }, ...cats.map(g => h("option", { value: g.name, text: g.name, selected: g.name === r.level1 })));
      const subsOf = (name) => (cats.find(g => g.name === name) || cats[0]).subs;
      const l2 = h("select.l2", { "aria-label": "第 " + (i + 1) + " 行二级指标" });
      const fillL2 = () => l2.replaceChildren(...subsOf(l1.value).map(n => h("option", { value: n, text: n, selected: n === r.level2 })));
      if (!cats.some(g => g.name === r.level1)) l1.prepend(h("option", { value: r.level1, text: r.level1 || "（未填）", selected: true }));
      fillL2();
      if (r.level2 && !subsOf(l1.value).includes(r.level2)) l2.prepend(h("option", { value: r.level2, text: r.level2, selected: true }));
      const input = (cls, key, label, attrs) => h("input." + cls, Object.assign({ value: r[key] || "", "aria-label": "第 " + (i + 1) + " 行" + label, maxlength: 200,
        oninput(ev) { st.rows[i][key] = ev.target.value; changed(); } }, attrs || {}));
      l1.addEventListener("change", () => { st.rows[i].level1 = l1.value; r.level2 = ""; fillL2(); st.rows[i].level2 = l2.value; changed(); });
      l2.addEventListener("change", () => { st.rows[i].level2 = l2.value; changed(); });
      const del = h("button.secondary", { type: "button", text: "删除", "aria-label": "删除第 " + (i + 1) + " 行", onclick() { st.rows.splice(i, 1); renderRows(); changed(); const n = $$("#rows input.name")[Math.min(i, st.rows.length - 1)]; (n || $("#add-row")).focus(); } });
      const el = h("div.trow", { "data-row": String(i) }, l1, l2, input("name", "name", "指标名称", { placeholder: "三级指标名称" }),
        input("value", "value", "指标值", { placeholder: "如 ≥95" }), input("unit", "unit", "计量单位", { placeholder: "单位", maxlength: 20 }),
        input("basis", "basis", "标准依据", { placeholder: "依据", maxlength: 50 }), del, h("div.flags", { "aria-live": "polite" }));
      if (st.rowComments[i]) el.querySelector(".flags").before(h("p.comment", { style: "grid-column:1/-1" }, h("strong", { text: "审核意见：" }), st.rowComments[i]));
      const ro = !editable();
      $$("input,select,button", el).forEach(x => { x.disabled = ro; });
      return el;
    }
    function renderRows() {
      const box = $("#rows");
      box.replaceChildren(...st.rows.map(rowEl));
      if (!st.rows.length) box.append(h("p.empty", { text: "目标表还没有指标：先获取推荐指标，或点击“增加一行”，或上传申报表。" }));
      renderFlags();
    }
    $("#add-row").addEventListener("click", () => {
      const g = cats[0];
      st.rows.push({ level1: g.name, level2: g.subs[0], name: "", value: "", unit: "", basis: "" });
      renderRows(); changed();
      $$("#rows input.name").pop().focus();
    });
    for (const id of ["#goal-period", "#goal-annual"]) $(id).addEventListener("input", () => changed());

    function changed() { st.dirty = true; updateButtons(); scheduleCheck(); }
    function doc() {
      const p = st.project;
      return { project: { name: p.name, sector: p.sector || undefined, amount: p.amount || undefined, period: p.period || undefined },
               goals: { period: $("#goal-period").value, annual: $("#goal-annual").value },
               rows: st.rows.map(r => ({ level1: r.level1, level2: r.level2, name: r.name, value: r.value, unit: r.unit || undefined, basis: r.basis || undefined })) };
    }
    let checkSeq = 0;
    const scheduleCheck = debounce(async () => {
      if (!st.rows.length) { st.review = null; renderReview(); return; }
      const my = ++checkSeq;
      try {
        const review = await api("/targets/check", { method: "POST", body: doc() });
        if (my === checkSeq) { st.review = review; renderReview(); }
      } catch (e) { if (my === checkSeq) showError($("#summary"), e); }
    }, 400);

    function renderReview() {
      const r = st.review, sum = $("#summary");
      if (!r) { sum.replaceChildren(); renderFlags(); return; }
      sum.replaceChildren(h("p", {}, "审核评分 ", h("span.score", { text: String(r.score) }), "　",
        h("strong.verdict-" + r.verdict, { text: r.verdict === "pass" ? "可以提交" : "需要修改" }),
        h("span.muted", { text: "　" + (r.reasons || []).slice(0, 2).join("；") })));
      renderFlags();
    }
    function flagEl(f) {
      // the checker's structured rewrite when it gives one; else the example quoted in the suggestion
      const rw = f.rewrite;
      const sug = rw && rw.name ? { name: rw.name, value: rw.value || "", id: rw.id || null } : parseSuggestion(f.suggestion);
      const move = parseMove(f.suggestion);
      const adoptable = editable() && (move || (sug && (f.row !== null || /^增加/.test(f.suggestion))));
      return h("div.flag." + f.severity, { "data-code": f.code }, h("span", { text: (f.severity === "error" ? "✖ " : "⚠ ") + f.message }),
        f.suggestion ? h("span.muted", { text: " 建议：" + f.suggestion }) : null,
        adoptable ? h("button.secondary", { type: "button", text: "采用建议", onclick() { adoptFlag(f, sug, move); } }) : null,
        h("span.code", { text: " " + f.code }));
    }
    function renderFlags() {
      const flags = (st.review && st.review.flags) || [];
      $("#table-flags").replaceChildren(...flags.filter(f => f.row === null || f.row === undefined).map(flagEl));
      $$("#rows .trow").forEach(el => {
        const i = +el.dataset.row;
        const mine = flags.filter(f => f.row === i);
        el.querySelector(".flags").replaceChildren(...mine.map(flagEl));
        el.classList.toggle("has-error", mine.some(f => f.severity === "error"));
        el.classList.toggle("has-warn", !mine.some(f => f.severity === "error") && mine.length > 0);
      });
    }
    async function adoptFlag(f, sug, move) {
      let ind = null;
      if (sug && sug.id) { try { ind = await api("/indicators/" + encodeURIComponent(sug.id)); } catch (e) { ind = null; } }
      if (move && f.row !== null) Object.assign(st.rows[f.row], move);
      else if (f.row !== null && f.row !== undefined) {
        const r = st.rows[f.row], sv = splitUnit(sug.value, (ind && ind.unit) || "");
        r.name = sug.name || r.name; r.value = sv.value; r.unit = (ind && ind.unit) || sv.unit || r.unit;
        if (r.unit && r.value.endsWith(r.unit)) r.value = r.value.slice(0, -r.unit.length);
        if (ind && ind.level1 && ind.category && f.code !== "unit_missing") { r.level1 = ind.level1.name; r.level2 = ind.category.name; }
      } else {
        const sv = splitUnit(sug.value, (ind && ind.unit) || "");
        let value = sv.value; const unit = (ind && ind.unit) || sv.unit || "";
        if (unit && value.endsWith(unit)) value = value.slice(0, -unit.length);
        st.rows.push({ level1: ind && ind.level1 ? ind.level1.name : cats[0].name, level2: ind && ind.category ? ind.category.name : cats[0].subs[0],
                       name: sug.name, value, unit, basis: (ind && ind.basis) || "" });
      }
      renderRows(); changed();
      const at = f.row !== null && f.row !== undefined ? f.row : st.rows.length - 1;
      const n = $$("#rows input.value")[at]; if (n) n.focus();
      flash("已采用建议");
    }

    /* ---- save, submit, export, import ---- */
    function conflict(e) {
      if (e instanceof ApiError && e.code === "stale_revision") return "目标表已被他人修改（当前修订 " + e.body.current_revision + "），请重新打开项目后再编辑；本次未保存。";
      if (e instanceof ApiError && e.code === "wrong_status") return "项目当前状态为「" + (STATUS[e.body.current_status] || e.body.current_status) + "」，不能进行此操作。";
      return null;
    }
    const status = $("#save-status");
    $("#save-btn").addEventListener("click", async () => {
      const btn = $("#save-btn"); btn.disabled = true; status.replaceChildren(h("p.muted.busy", { text: "正在保存" }));
      try {
        const t = await api("/projects/" + encodeURIComponent(st.project.id) + "/targets", { method: "PUT", body: Object.assign({ revision: st.revision, goals: doc().goals, rows: doc().rows }, st.projectType ? { project_type: st.projectType } : {}) });
        st.revision = t.revision; st.review = t.review; st.dirty = false; st.rowComments = {};
        if (st.project.status === "approved") st.project.status = "draft";
        status.replaceChildren(h("p.okmsg", { text: "已保存为修订 " + t.revision + "（评分 " + t.review.score + "）" }));
        renderRows(); renderReview(); loadHistory();
      } catch (e) { status.replaceChildren(h("p.error", { role: "alert", text: conflict(e) || e.message })); }
      updateButtons();
    });
    $("#submit-btn").addEventListener("click", async () => {
      status.replaceChildren(h("p.muted.busy", { text: "正在提交" }));
      try {
        const p = await api("/projects/" + encodeURIComponent(st.project.id) + "/submit", { method: "POST", body: { revision: st.revision } });
        st.project = Object.assign(st.project, p);
        status.replaceChildren(h("p.okmsg", { text: "已提交审核（修订 " + st.revision + "），审核期间不能修改。" }));
        renderRows(); loadHistory(); loadProjects();
        sel.value = st.project.id;
      } catch (e) { status.replaceChildren(h("p.error", { role: "alert", text: conflict(e) || e.message })); }
      updateButtons();
    });
    $("#download-btn").addEventListener("click", async () => {
      try {
        const res = await api("/projects/" + encodeURIComponent(st.project.id) + "/targets.xlsx", { raw: true });
        const blob = await res.blob();
        const a = h("a", { href: URL.createObjectURL(blob), download: st.project.name + "-绩效目标申报表.xlsx" });
        document.body.append(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      } catch (e) { status.replaceChildren(h("p.error", { role: "alert", text: e.message })); }
    });
    $("#upload-xlsx").addEventListener("change", async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      const fd = new FormData(); fd.append("file", file); fd.append("revision", String(st.revision));
      status.replaceChildren(h("p.muted.busy", { text: "正在读取申报表" }));
      try {
        await api("/projects/" + encodeURIComponent(st.project.id) + "/targets/xlsx", { method: "PUT", body: fd });
        ev.target.value = "";
        await openProject(st.project.id);
        status.replaceChildren(h("p.okmsg", { text: "已从申报表导入，保存为修订 " + st.revision }));
      } catch (e) { ev.target.value = ""; status.replaceChildren(h("p.error", { role: "alert", text: conflict(e) || e.message })); }
    });

    async function loadHistory() {
      const box = $("#history");
      try {
        const hist = await api("/projects/" + encodeURIComponent(st.project.id) + "/history");
        box.replaceChildren(historyList(hist.events || []));
      } catch (e) { showError(box, e); }
    }

    /* ---- project picker and creation ---- */
    sel.addEventListener("change", () => openProject(sel.value));
    $("#new-project-btn").addEventListener("click", () => { const f = $("#project-form"); f.hidden = !f.hidden; if (!f.hidden) $("#pf-name").focus(); });
    $("#pf-year").value = new Date().getFullYear() + 1;
    $("#project-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = ev.target, btn = f.querySelector("button");
      btn.disabled = true;
      try {
        const body = { name: f.name.value.trim(), unit: s.unit, year: +f.year.value, amount: +f.amount.value, description: f.description.value.trim() };
        if (f.sector.value) body.sector = f.sector.value;
        const p = await api("/projects", { method: "POST", body });
        f.hidden = true; f.reset(); $("#pf-year").value = new Date().getFullYear() + 1;
        await loadProjects(p.id);
      } catch (e) { showError($("#project-info"), e); }
      finally { btn.disabled = false; }
    });
    window.addEventListener("beforeunload", (ev) => { if (st.dirty) { ev.preventDefault(); ev.returnValue = ""; } });
    loadProjects(new URLSearchParams(location.search).get("project"));
  };

  function historyList(events) {
    if (!events.length) return h("p.empty", { text: "还没有流转记录" });
    return h("ol", {}, ...events.map(e => h("li", {},
      (e.at || "").slice(0, 19).replace("T", " ") + "　" + (e.actor || "") + "　" + (ACTIONS[e.action] || e.action) +
      (e.to ? " → " + (STATUS[e.to] || e.to) : "") + (e.revision ? "（修订 " + e.revision + "）" : "") + (e.score !== null && e.score !== undefined ? " 评分 " + e.score : ""),
      e.comment ? h("div.comment", { text: "意见：" + e.comment }) : null,
      ...(e.row_comments || []).map(c => h("div.comment", { text: "第 " + (c.row + 1) + " 行：" + c.comment })))));
  }
  window.Zhibiao.historyList = historyList;
  window.Zhibiao.STATUS = STATUS;
})();

/* ====================== 审核 review ======================
 * the queue of submitted tables (oldest first, by unit and sector), a table with its flags inline,
 * score and verdict, a comment per row, return or approve; history, revision diff, print. */
(function () {
  const { $, $$, h, api, session, flash, showError, ApiError, pages } = window.Zhibiao;
  const STATUS = window.Zhibiao.STATUS;

  pages.review = function () {
    const s = session.get();
    if (!s || !["reviewer", "admin"].includes(s.role)) {
      $("#need-login").hidden = false;
      if (s && s.role) $("#need-login").textContent = "审核由财政审核人员账号完成；当前账号不能审核。";
      return;
    }
    $("#review-app").hidden = false;
    const units = new Map();
    api("/units?limit=500").then(u => {
      for (const x of u.items || []) units.set(x.code, x.name);
      $("#f-unit").append(...(u.items || []).map(x => h("option", { value: x.code, text: x.code + " " + x.name })));
    }).catch(() => {});

    async function loadQueue() {
      const f = $("#queue-filter"), box = $("#queue");
      box.replaceChildren(h("progress", { "aria-label": "正在加载待审队列" }));
      const q = new URLSearchParams({ limit: "200" });
      if (f.unit.value) q.set("unit", f.unit.value);
      if (f.sector.value) q.set("sector", f.sector.value);
      const statuses = f.status.value === "queue" ? ["submitted", "resubmitted"] : [f.status.value];
      try {
        const lists = await Promise.all(statuses.map(st => api("/projects?" + q + "&status=" + st)));
        const items = lists.flatMap(l => l.items || []).sort((a, b) => (a.updated_at || "").localeCompare(b.updated_at || ""));
        if (!items.length) { box.replaceChildren(h("p.empty", { text: "没有符合条件的项目。" })); return; }
        box.replaceChildren(h("div.scroll", {}, h("table.grid", {},
          h("thead", {}, h("tr", {}, ...["提交时间", "单位", "项目", "金额（元）", "状态", "修订", ""].map(t => h("th", { text: t })))),
          h("tbody", {}, ...items.map(p => h("tr", {},
            h("td", { text: (p.updated_at || "").slice(0, 16).replace("T", " ") }),
            h("td", { text: p.unit_name || units.get(p.unit) || p.unit }),
            h("td", { text: p.name }),
            h("td", { text: Number(p.amount || 0).toLocaleString("zh-CN") }),
            h("td", {}, h("span.status." + p.status, { text: STATUS[p.status] || p.status })),
            h("td", { text: String(p.revision) }),
            h("td", {}, h("button.secondary", { type: "button", text: "打开", "aria-label": "打开 " + p.name, onclick() { openProject(p.id); } }))))))));
      } catch (e) { showError(box, e); }
    }
    $("#queue-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadQueue(); });
    $$("#queue-filter select").forEach(x => x.addEventListener("change", loadQueue));

    async function openProject(id) {
      const box = $("#detail");
      box.replaceChildren(h("progress", { "aria-label": "正在加载目标表" }));
      try {
        const p = await api("/projects/" + encodeURIComponent(id));
        const t = p.table;
        if (!t) { box.replaceChildren(h("p.empty", { text: "该项目还没有目标表。" })); return; }
        const r = t.review || { flags: [], reasons: [] };
        const canDecide = ["submitted", "resubmitted"].includes(p.status);
        const flagsOf = (i) => (r.flags || []).filter(f => f.row === i);
        const rows = t.rows.map((row, i) => h("tr", { "data-row": String(i), class: flagsOf(i).some(f => f.severity === "error") ? "has-error" : "" },
          h("td", { text: String(i + 1) }), h("td", { text: row.level1 }), h("td", { text: row.level2 }), h("td", { text: row.name }),
          h("td", { text: row.value + (row.unit && !String(row.value).endsWith(row.unit) ? " " + row.unit : "") }),
          h("td", {}, ...flagsOf(i).map(f => h("div.flag." + f.severity, { text: (f.severity === "error" ? "✖ " : "⚠ ") + f.message + (f.suggestion ? " 建议：" + f.suggestion : "") }))),
          h("td", { class: "no-print" }, ...(t.row_comments || []).filter(c => c.row === i).map(c => h("div.comment", { text: "已退回意见：" + c.comment })), h("textarea.row-comment", { rows: 1, maxlength: 500, "aria-label": "第 " + (i + 1) + " 行审核意见", "data-row": String(i), disabled: !canDecide }))));
        const tableFlags = (r.flags || []).filter(f => f.row === null || f.row === undefined);
        const comment = h("textarea#review-comment", { rows: 2, maxlength: 2000, disabled: !canDecide });
        const msg = h("div#decide-status", { "aria-live": "polite" });
        const decide = async (action) => {
          const body = { revision: t.revision, comment: comment.value.trim() };
          if (action === "return") {
            body.row_comments = $$(".row-comment", box).filter(x => x.value.trim()).map(x => ({ row: +x.dataset.row, comment: x.value.trim() }));
            if (!body.comment && body.row_comments.length) body.comment = "请按行内意见修改后重新提交";
            if (!body.comment) { msg.replaceChildren(h("p.error", { role: "alert", text: "退回时请填写审核意见（整表或逐行）" })); comment.focus(); return; }
          } else if (!body.comment) delete body.comment;
          try {
            const res = await api("/projects/" + encodeURIComponent(id) + "/" + action, { method: "POST", body });
            flash(action === "return" ? "已退回「" + res.name + "」" : "已通过「" + res.name + "」");
            await openProject(id); loadQueue();
          } catch (e) {
            const text = e instanceof ApiError && e.code === "wrong_status" ? "该项目已被处理（当前状态「" + (STATUS[e.body.current_status] || e.body.current_status || "") + "」），请刷新队列" :
              e instanceof ApiError && e.code === "stale_revision" ? "单位已更新目标表（当前修订 " + e.body.current_revision + "），请重新打开" : e.message;
            msg.replaceChildren(h("p.error", { role: "alert", text }));
          }
        };
        const revSel = () => h("select", {}, ...Array.from({ length: t.revision }, (_, k) => h("option", { value: String(k + 1), text: "修订 " + (k + 1) })));
        const ra = revSel(), rb = revSel();
        ra.setAttribute("aria-label", "比较的旧修订"); rb.setAttribute("aria-label", "比较的新修订");
        if (t.revision > 1) ra.value = String(t.revision - 1);
        rb.value = String(t.revision);
        const diffBox = h("div#diff");
        box.replaceChildren(
          h("div.panel", {},
            h("h2", { text: p.name }),
            h("p", {}, (p.unit_name || p.unit) + " · " + p.year + " 年度 · 金额 " + Number(p.amount || 0).toLocaleString("zh-CN") + " 元 · 修订 " + t.revision + "　",
              h("span.status." + p.status, { text: STATUS[p.status] || p.status })),
            h("p", {}, "审核评分 ", h("span.score", { text: String(r.score) }), "　", h("strong.verdict-" + r.verdict, { text: r.verdict === "pass" ? "建议通过" : "建议修改" }),
              h("span.muted", { text: "　" + (r.reasons || []).join("；") })),
            t.goals ? h("dl.facts", {}, h("dt", { text: "实施期目标" }), h("dd", { text: t.goals.period || "（未填）" }), h("dt", { text: "年度目标" }), h("dd", { text: t.goals.annual || "（未填）" })) : null,
            ...tableFlags.map(f => h("div.flag." + f.severity, { text: (f.severity === "error" ? "✖ " : "⚠ ") + f.message + (f.suggestion ? " 建议：" + f.suggestion : "") })),
            t.return_comment ? h("p.comment", { text: "上次退回意见：" + t.return_comment }) : null),
          h("div.scroll", {}, h("table#review-table.grid", {},
            h("thead", {}, h("tr", {}, ...["#", "一级", "二级", "三级指标", "指标值", "自动审核", "意见"].map((x, k) => h("th", { text: x, class: k === 6 ? "no-print" : null })))),
            h("tbody", {}, ...rows))),
          h("div.panel.no-print", {},
            h("label", { for: "review-comment", text: "整表审核意见" }), comment,
            h("div.toolbar", {},
              h("button.danger", { type: "button", text: "退回修改", disabled: !canDecide, onclick() { decide("return"); } }),
              h("button.ok", { type: "button", text: "审核通过", disabled: !canDecide, onclick() { decide("approve"); } }),
              h("button.secondary", { type: "button", text: "打印", onclick() { window.print(); } })),
            msg),
          h("details.panel.no-print", {}, h("summary", { text: "修订比较" }),
            t.revision > 1 ? h("div.toolbar", {}, ra, " → ", rb, h("button.secondary", { type: "button", text: "比较", async onclick() {
              diffBox.replaceChildren(h("progress"));
              try { diffBox.replaceChildren(diffTable(await api("/projects/" + encodeURIComponent(id) + "/revisions/" + ra.value + "/diff/" + rb.value))); }
              catch (e) { showError(diffBox, e); }
            } })) : h("p.muted", { text: "只有一个修订。" }), diffBox),
          h("details.panel", { open: true }, h("summary", { text: "流转记录" }), h("div#review-history", {}, h("progress"))));
        api("/projects/" + encodeURIComponent(id) + "/history").then(hist => $("#review-history").replaceChildren(window.Zhibiao.historyList(hist.events || [])))
          .catch(e => showError($("#review-history"), e));
        box.querySelector("h2").setAttribute("tabindex", "-1");
        box.querySelector("h2").focus();
      } catch (e) { showError(box, e); }
    }

    function diffTable(d) {
      const CH = { added: "新增", removed: "删除", changed: "修改", same: "未变" };
      const cell = (row) => row ? row.value + (row.unit ? " " + row.unit : "") : "";
      const goals = (d.goals || []).map(g => h("p.diff-chg", { text: (g.field === "annual" ? "年度目标" : "实施期目标") + "：" + (g.before || "") + " → " + (g.after || "") }));
      const s = d.summary || {};
      return h("div", {}, h("p", { text: "新增 " + (s.added || 0) + "，删除 " + (s.removed || 0) + "，修改 " + (s.changed || 0) + "，未变 " + (s.same || 0) }), ...goals,
        h("table.grid", {}, h("thead", {}, h("tr", {}, ...["变化", "三级指标", "修订 " + d.from, "修订 " + d.to].map(x => h("th", { text: x })))),
          h("tbody", {}, ...(d.rows || []).filter(r => r.change !== "same").map(r => h("tr", { class: "diff-" + { added: "add", removed: "del", changed: "chg" }[r.change] },
            h("td", { text: CH[r.change] || r.change }), h("td", { text: r.name }), h("td", { text: cell(r.before) }), h("td", { text: cell(r.after) + (r.fields && r.fields.length ? "（" + r.fields.join("、") + "）" : "") }))))));
    }
    loadQueue();
    const want = new URLSearchParams(location.search).get("project");
    if (want) openProject(want);
  };
})();

/* ====================== 指标库 library loads (maintainers) ======================
 * upload → the dry-run report with each located error → confirm the load. */
(function () {
  const { $, h, api, session, showError, pages } = window.Zhibiao;
  pages.library = function () {
    const s = session.get(), form = $("#load-form");
    if (!form || !s || !["maintainer", "admin"].includes(s.role)) return;
    const out = $("#load-report");
    const report = (rep) => {
      const errors = rep.errors || [], warnings = rep.warnings || [];
      const loc = (e) => [e.file, e.row ? "第 " + e.row + " 行" : "", e.column ? "列 " + e.column : ""].filter(Boolean).join("，");
      return h("div", {},
        h("p", { text: "文件 " + (rep.file || "") + "：" + (rep.rows || 0) + " 行；" + (rep.dry_run ? "试运行，未写入" : "已加载，版本 " + rep.version_before + " → " + rep.version_after) }),
        errors.length ? h("div.error", { role: "alert" }, h("strong", { text: "有 " + errors.length + " 个错误，整个文件不会写入：" }),
          h("ol", {}, ...errors.slice(0, 200).map(e => h("li", { text: loc(e) + "：" + e.message + "（" + e.code + "）" })))) : null,
        warnings.length ? h("details", {}, h("summary", { text: warnings.length + " 条提醒" }), h("ol", {}, ...warnings.slice(0, 200).map(e => h("li", { text: loc(e) + "：" + e.message })))) : null,
        rep.counts && Object.keys(rep.counts).length ? h("p.muted", { text: "新增 " + (rep.counts.created || 0) + "，更新 " + (rep.counts.updated || 0) + "，未变 " + (rep.counts.unchanged || 0) + "，停用 " + (rep.counts.deprecated || 0) }) : null);
    };
    const send = async (file, dry) => {
      const fd = new FormData(); fd.append("file", file);
      out.replaceChildren(h("p.muted", {}, dry ? "正在校验" : "正在加载", " ", h("progress", { "aria-label": "处理中" })));
      try {
        const rep = await api("/library/loads?dry_run=" + dry, { method: "POST", body: fd });
        out.replaceChildren(report(rep));
        if (dry && !(rep.errors || []).length) {
          out.append(h("div.toolbar", {}, h("button#confirm-load.ok", { type: "button", text: "确认加载", onclick() { send(file, false); } }),
            h("span.muted", { text: "校验通过，确认后写入指标库" })));
          $("#confirm-load").focus();
        } else if (!dry) {
          out.prepend(h("p.okmsg", { text: "加载完成，刷新页面查看新的指标库" }));
        }
      } catch (e) {
        if (e.body && (e.body.errors || e.code === "load_failed")) out.replaceChildren(report(e.body));
        else showError(out, e);
      }
    };
    form.addEventListener("submit", (ev) => { ev.preventDefault(); const f = $("#load-file").files[0]; if (f) send(f, true); });
  };
})();

/* ====================== 监控与评价 monitoring ======================
 * warnings per unit and for the bureau, the execution curve and target achievement drawn as inline
 * SVG from the chart JSON, the evaluation scores, and (for the bureau) next year's budget proposals. */
(function () {
  const { $, h, api, session, showError, pages } = window.Zhibiao;
  const SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...kids) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return el;
  }
  const yuan = (n) => Number(n || 0).toLocaleString("zh-CN");
  const pct = (n) => (n === null || n === undefined ? "—" : Math.round(n * 10) / 10 + "%");
  const W_KIND = { execution_deviation: "执行进度偏差", target_shortfall: "目标完成不足" };
  const W_STATUS = { open: "待说明", explained: "已说明", acted: "已处理", closed: "已关闭" };
  const ACTION = { increase: "增加", keep: "持平", cut: "压减", stop: "取消" };

  /* the execution curve: planned (cumulated monthly plan) against reported spending, % of the amount */
  function curveChart(c) {
    const W = 640, H = 260, L = 44, R = 12, T = 14, B = 34;
    const x = (m) => L + (m / 12) * (W - L - R), y = (p) => T + (1 - Math.min(p, 120) / 120) * (H - T - B);
    const monthOf = (d) => { const [yy, mm, dd] = d.split("-").map(Number); return mm - 1 + dd / new Date(yy, mm, 0).getDate(); };
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "资金执行曲线：计划与实际支出进度", class: "chart" });
    for (const p of [0, 25, 50, 75, 100]) svg.append(s("line", { x1: L, x2: W - R, y1: y(p), y2: y(p), stroke: "#d8dee6" }), s("text", { x: L - 6, y: y(p) + 4, "text-anchor": "end", "font-size": 11, fill: "#5f6b7a" }, p + "%"));
    for (let m = 1; m <= 12; m++) svg.append(s("text", { x: x(m), y: H - B + 16, "text-anchor": "middle", "font-size": 11, fill: "#5f6b7a" }, m + "月"));
    const planned = [[0, 0], ...(c.planned || []).map(p => [p.month, p.pct])];
    svg.append(s("polyline", { points: planned.map(([m, p]) => x(m) + "," + y(p)).join(" "), fill: "none", stroke: "#0b57a4", "stroke-width": 2, "stroke-dasharray": "6 4" }));
    const actual = [[0, 0], ...(c.actual || []).map(a => [monthOf(a.as_of), a.pct])];
    svg.append(s("polyline", { points: actual.map(([m, p]) => x(m) + "," + y(p)).join(" "), fill: "none", stroke: "#b3261e", "stroke-width": 2.5 }));
    for (const a of c.actual || []) svg.append(s("circle", { cx: x(monthOf(a.as_of)), cy: y(a.pct), r: 4, fill: "#b3261e" }, s("title", {}, a.as_of + " 实际 " + pct(a.pct))));
    svg.append(s("text", { x: L + 6, y: T + 12, "font-size": 12, fill: "#0b57a4" }, "- - 计划"), s("text", { x: L + 70, y: T + 12, "font-size": 12, fill: "#b3261e" }, "—— 实际"));
    return svg;
  }
  /* achievement of the core targets in one report, with the 80% warning line */
  function achievementChart(c) {
    const bars = c.bars || [], W = 640, L = 170, R = 56, row = 26, T = 8, H = T + bars.length * row + 24;
    const x = (r) => L + (Math.min(r, 120) / 120) * (W - L - R);
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "核心目标完成率", class: "chart" });
    bars.forEach((b, i) => {
      const yy = T + i * row;
      const name = b.name.length > 12 ? b.name.slice(0, 11) + "…" : b.name;
      svg.append(s("text", { x: L - 6, y: yy + 16, "text-anchor": "end", "font-size": 12, fill: "#1f2933" }, name, s("title", {}, b.name)));
      if (b.rate === null || b.rate === undefined) svg.append(s("text", { x: L + 4, y: yy + 16, "font-size": 12, fill: "#5f6b7a" }, "未报告"));
      else svg.append(s("rect", { x: L, y: yy + 4, width: Math.max(1, x(b.rate) - L), height: row - 10, fill: b.rate < (c.threshold || 80) ? "#b3261e" : "#1e7d32" }),
        s("text", { x: x(b.rate) + 4, y: yy + 16, "font-size": 12, fill: "#1f2933" }, pct(b.rate)));
    });
    const tx = x(c.threshold || 80);
    svg.append(s("line", { x1: tx, x2: tx, y1: T, y2: H - 20, stroke: "#a15c00", "stroke-dasharray": "4 3" }), s("text", { x: tx, y: H - 6, "text-anchor": "middle", "font-size": 11, fill: "#a15c00" }, "预警线 " + (c.threshold || 80) + "%"));
    return svg;
  }

  pages.monitoring = function () {
    const who = session.get();
    if (!who || !["unit", "reviewer", "admin"].includes(who.role)) {
      $("#need-login").hidden = false;
      if (who && who.role) $("#need-login").textContent = "监控与评价面向预算单位和财政审核人员；当前账号不能查看。";
      return;
    }
    $("#monitor-app").hidden = false;
    const bureau = who.role !== "unit";
    let year = +$("#monitor-app").dataset.year;
    const enc = encodeURIComponent;

    async function loadWarnings() {
      const box = $("#warnings");
      box.replaceChildren(h("progress", { "aria-label": "正在加载预警" }));
      try {
        const w = await api("/warnings?limit=200&year=" + year);
        const parts = [];
        if (bureau && (w.by_unit || []).length) parts.push(h("h3", { text: "按单位汇总" }), h("div.scroll", {}, h("table.grid", {},
          h("thead", {}, h("tr", {}, ...["单位", "预警", "待说明", "涉及项目"].map(t => h("th", { text: t })))),
          h("tbody", {}, ...w.by_unit.map(u => h("tr", {}, h("td", { text: u.unit_name || u.unit }), h("td", { text: String(u.warnings) }), h("td", { text: String(u.open) }), h("td", { text: String(u.projects) })))))));
        if (!(w.items || []).length) parts.push(h("p.empty", { text: year + " 年没有预警。" }));
        else parts.push(h("h3", { text: "预警明细（" + w.total + " 条）" }), h("div.scroll", {}, h("table#warning-table.grid", {},
          h("thead", {}, h("tr", {}, ...[bureau ? "单位" : null, "项目", "类型", "说明", "状态", "单位说明"].filter(Boolean).map(t => h("th", { text: t })))),
          h("tbody", {}, ...w.items.map(x => h("tr", {}, bureau ? h("td", { text: x.unit_name || x.unit }) : null, h("td", { text: x.project_name || x.project }),
            h("td", { text: W_KIND[x.kind] || x.kind }), h("td", { text: (x.as_of || "") + "　" + x.message }), h("td", { text: W_STATUS[x.status] || x.status }),
            h("td", { text: x.explanation || "" })))))));
        box.replaceChildren(...parts);
      } catch (e) { showError(box, e); }
    }

    async function loadProjects() {
      const sel = $("#m-project");
      try {
        const data = await api("/projects?limit=200&year=" + year);
        const items = data.items || [];
        sel.replaceChildren(h("option", { value: "", text: items.length ? "（请选择项目）" : "（本年度没有项目）" }),
          ...items.map(p => h("option", { value: p.id, text: (bureau ? (p.unit_name || p.unit) + " · " : "") + p.name })));
        $("#project-monitor").replaceChildren();
      } catch (e) { showError($("#project-monitor"), e); }
    }
    $("#m-project").addEventListener("change", async (ev) => {
      const id = ev.target.value, box = $("#project-monitor");
      if (!id) { box.replaceChildren(); return; }
      box.replaceChildren(h("progress", { "aria-label": "正在加载项目执行情况" }));
      const parts = [];
      try {
        const prog = await api("/projects/" + enc(id) + "/progress");
        if (!prog.plan && !(prog.reports || []).length) parts.push(h("p.empty", { text: "该项目还没有用款计划和监控报告。" }));
        else {
          const chart = await api("/projects/" + enc(id) + "/progress/chart");
          parts.push(h("h3", { text: "资金执行曲线" }), curveChart(chart));
          const last = (prog.reports || []).slice(-1)[0];
          if (last) {
            const e = last.execution || {};
            parts.push(h("p", { text: last.as_of + "：已支出 " + yuan(last.spent) + " 元，执行 " + pct(e.actual_pct) + "，计划 " + pct(e.planned_pct) + "，偏差 " + (e.deviation_pts > 0 ? "+" : "") + pct(e.deviation_pts) }));
            const ach = await api("/projects/" + enc(id) + "/progress/" + enc(last.as_of) + "/achievement");
            if ((ach.bars || []).length) parts.push(h("h3", { text: "核心目标完成率（" + last.as_of + "）" }), achievementChart(ach));
          }
        }
      } catch (e) { parts.push(h("p.error", { role: "alert", text: e.message })); }
      try {
        const ev2 = await api("/projects/" + enc(id) + "/evaluation");
        const src = { self: "单位自评", review: "财政复核", key: "重点评价" }[ev2.final_source] || ev2.final_source;
        parts.push(h("h3", { text: "绩效评价" }), h("p", {}, "最终得分 ", h("span.score", { text: String(ev2.final_score ?? "—") }), "　等级 ", h("strong", { text: ev2.grade || "—" }), h("span.muted", { text: "（采用" + src + "）" })));
        const g = (ev2.self && ev2.self.groups) || {};
        const rows = Object.values(g);
        if (rows.length) parts.push(h("div.scroll", {}, h("table.grid", {}, h("thead", {}, h("tr", {}, h("th", { text: "自评项目" }), h("th", { text: "分值" }), h("th", { text: "得分" }))),
          h("tbody", {}, ...rows.map(r => h("tr", {}, h("td", { text: r.name }), h("td", { text: String(r.points) }), h("td", { text: String(Math.round(r.score * 100) / 100) })))))));
        parts.push(h("p.muted", { text: "自评 " + (ev2.self_total ?? "—") + "　复核 " + (ev2.review_score ?? "—") + "　重点评价 " + (ev2.key_score ?? "—") }));
      } catch (e) { if (e.status !== 404) parts.push(h("p.error", { role: "alert", text: e.message })); else parts.push(h("p.empty", { text: "该项目还没有绩效评价。" })); }
      box.replaceChildren(...parts);
    });

    async function loadProposals() {
      if (!bureau) return;
      const box = $("#proposals"), sum = $("#report-summary");
      box.replaceChildren(h("progress", { "aria-label": "正在加载预算调整建议" }));
      try {
        const [rep, b, units] = await Promise.all([api("/reports/" + year), api("/budget/proposals?year=" + year), api("/units?limit=500").catch(() => ({ items: [] }))]);
        const unitName = new Map((units.items || []).map(u => [u.code, u.name]));
        const m = rep.monitoring || {}, ev = rep.evaluation || {}, ap = rep.appraisal || {};
        sum.replaceChildren(h("dl.facts", {},
          h("dt", { text: "项目" }), h("dd", { text: (rep.projects || {}).count + " 个，" + (rep.projects || {}).units + " 家单位，" + yuan((rep.projects || {}).amount) + " 元" }),
          h("dt", { text: "事前评估" }), h("dd", { text: (ap.projects || 0) + " 个项目，申报 " + yuan(ap.requested) + " 元，核减 " + yuan(ap.cut) + " 元（" + pct(ap.cut_rate_pct) + "）" }),
          h("dt", { text: "运行监控" }), h("dd", { text: (m.projects || 0) + " 个项目，" + (m.reports || 0) + " 份报告，预警 " + (m.warnings || 0) + " 条" }),
          h("dt", { text: "绩效评价" }), h("dd", { text: "自评 " + (ev.self_evaluated || 0) + "，复核 " + (ev.reviewed || 0) + "，重点评价 " + (ev.key_evaluated || 0) + "，平均得分 " + (ev.average_final_score ?? "—") })));
        const c = b.city || {};
        const by = Object.entries(c.by_action || {}).map(([k, v]) => (ACTION[k] || k) + " " + v).join("，");
        box.replaceChildren(h("p", { text: b.next_year + " 年预算建议：基数 " + yuan(c.base_amount) + " 元 → " + yuan(c.final_amount) + " 元（" + (c.change > 0 ? "+" : "") + yuan(c.change) + " 元）；" + by }),
          h("div.scroll", {}, h("table#proposal-table.grid", {},
            h("thead", {}, h("tr", {}, ...["单位", "项目", "得分", "规则", "调整", "基数（元）", "建议（元）"].map(t => h("th", { text: t })))),
            h("tbody", {}, ...(b.projects || []).slice().sort((p, q) => (p.change || 0) - (q.change || 0)).map(p => h("tr", {},
              h("td", { text: unitName.get(p.unit) || p.unit }), h("td", { text: p.name }), h("td", { text: p.score ?? "—" }), h("td", { text: p.rule || "" }),
              h("td", { text: ACTION[p.action] || p.action }), h("td", { text: yuan(p.base_amount) }), h("td", { text: yuan(p.final_amount) })))))));
      } catch (e) { sum.replaceChildren(); showError(box, e); }
    }
    const rx = $("#report-xlsx");
    if (rx) rx.addEventListener("click", async () => {
      try {
        const res = await api("/reports/" + year + ".xlsx", { raw: true });
        const a = h("a", { href: URL.createObjectURL(await res.blob()), download: year + "年度绩效闭环报告.xlsx" });
        document.body.append(a); a.click(); a.remove();
      } catch (e) { showError($("#proposals"), e); }
    });
    $("#year-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      year = +$("#m-year").value;
      history.replaceState(null, "", "/monitoring?year=" + year);
      loadAll();
    });
    function loadAll() { loadWarnings(); loadProjects(); loadProposals(); }
    loadAll();
  };
})();
