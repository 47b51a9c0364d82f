// The in-browser half of tests/integration/support/browser.rs: it looks for anything a page
// could run. The harness serves this file as the first element of <head> (a nonce'd external
// script, so no markup on the page can swallow or precede it), after one line that defines
// CFG = {result, token, frames}. It
//   - listens for Content-Security-Policy violations before the body is parsed;
//   - walks the DOM once the page has loaded (open shadow roots included): event-handler
//     attributes, active elements that are not the page's own, URL-bearing attributes whose
//     value, resolved by the browser against document.baseURI, is javascript:/vbscript:/data:,
//     dangerous inline styles;
//   - on a page of harness frames (CFG.frames), collects every frame's own report;
//   - writes its report as hex-encoded JSON into a new <pre id=CFG.result>, read back from
//     `chromium --dump-dom`. Hex cannot be broken out of, and nothing is ever inlined.
// Markup on the page can clobber named properties of document and of form elements (DOM
// clobbering), so every platform function is taken from the prototypes here, before parsing.
"use strict";
(function () {
  const doc = document;
  const win = window;
  const own = doc.currentScript;
  const get = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
  const call = Function.prototype.call.bind(Function.prototype.call);
  const P = {
    qsa: Document.prototype.querySelectorAll,
    qsaIn: DocumentFragment.prototype.querySelectorAll,
    byId: Document.prototype.getElementById,
    create: Document.prototype.createElement,
    append: Node.prototype.appendChild,
    names: Element.prototype.getAttributeNames,
    attr: Element.prototype.getAttribute,
    closest: Element.prototype.closest,
    localName: get(Element.prototype, "localName"),
    ns: get(Element.prototype, "namespaceURI"),
    shadow: get(Element.prototype, "shadowRoot"),
    outer: get(Element.prototype, "outerHTML"),
    parent: get(Node.prototype, "parentNode"),
    text: get(Node.prototype, "textContent"),
    setText: Object.getOwnPropertyDescriptor(Node.prototype, "textContent").set,
    baseURI: get(Node.prototype, "baseURI"),
    docEl: get(Document.prototype, "documentElement"),
    head: get(Document.prototype, "head"),
    frameDoc: get(HTMLIFrameElement.prototype, "contentDocument"),
    styleText: get(CSSStyleDeclaration.prototype, "cssText"),
    style: get(HTMLElement.prototype, "style"),
    listen: EventTarget.prototype.addEventListener,
    setTimeout: win.setTimeout.bind(win),
    stringify: JSON.stringify,
    parse: JSON.parse,
    URL: win.URL,
    encoder: new TextEncoder(),
  };
  const started = Date.now();
  const csp = [];
  const cspFindings = [];
  const framesBlocked = [];
  let findings = [];

  const snippet = (el) => {
    try {
      return String(call(P.outer, el)).slice(0, 240);
    } catch (e) {
      return "";
    }
  };
  // The harness marks containers (a stored story, a vector) with data-k=CFG.token and data-id.
  const containerOf = (node) => {
    try {
      const c = call(P.closest, node, '[data-k="' + CFG.token + '"]');
      if (c) return call(P.attr, c, "data-id");
      const li = call(P.closest, node, "li");
      if (li) return "li: " + String(call(P.text, li)).slice(0, 120);
    } catch (e) {}
    return null;
  };
  const finding = (kind, el, extra) => {
    const f = { kind, el: el ? call(P.localName, el) : null, container: el ? containerOf(el) : null };
    for (const k in extra) f[k] = extra[k];
    if (el) f.snippet = snippet(el);
    return f;
  };
  const add = (kind, el, extra) => findings.push(finding(kind, el, extra));

  // CSP: anything but images, media, fonts and styles is about script or navigation.
  const BENIGN = /^(img-src|media-src|font-src|style-src|style-src-elem|style-src-attr|manifest-src|prefetch-src)$/;
  call(P.listen, win, "securitypolicyviolation", (e) => {
    const dir = e.effectiveDirective || e.violatedDirective;
    const v = { dir, blocked: String(e.blockedURI).slice(0, 200), sample: e.sample, line: e.lineNumber };
    csp.push(v);
    if (CFG.frames && dir === "frame-src") {
      // On a page of harness frames this is a piece navigating its own frame away (a meta
      // refresh): the navigation was blocked, and the piece's own report names the cause.
      framesBlocked.push(v);
    } else if (!BENIGN.test(dir)) {
      const t = e.target instanceof win.Element ? e.target : null;
      cspFindings.push(finding("csp", t, v));
    }
  }, true);

  const BAD_PROTO = ["javascript:", "vbscript:", "data:", "livescript:", "mocha:"];
  // Attributes whose value the browser (or an old one) treats as a URL.
  const URL_ATTRS = new Set([
    "href", "src", "action", "formaction", "data", "poster", "background", "xlink:href",
    "codebase", "code", "classid", "cite", "longdesc", "usemap", "lowsrc", "dynsrc",
    "manifest", "profile", "icon", "xml:base", "itemtype", "archive", "ping", "srcset",
    "imagesrcset", "to", "from", "values", "by", "folder", "datasrc", "xmlns:xlink",
  ]);
  const LIST_ATTRS = new Set(["ping", "archive"]);
  const SET_ATTRS = new Set(["srcset", "imagesrcset"]);
  const ANIM_ATTRS = new Set(["to", "from", "values", "by"]);
  const urlsOf = (name, value) => {
    if (SET_ATTRS.has(name)) return value.split(",").map((c) => c.trim().split(/\s+/)[0]);
    if (LIST_ATTRS.has(name)) return value.split(/\s+/);
    if (ANIM_ATTRS.has(name)) return value.split(";");
    return [value];
  };
  const resolve = (el, v) => {
    try {
      return new P.URL(v, call(P.baseURI, el)).protocol;
    } catch (e) {
      return null;
    }
  };
  // Old and new ways of running script from CSS.
  const BAD_STYLE = /expression\s*\(|javascript:|vbscript:|-moz-binding|behaviou?r\s*:|@import|url\s*\(\s*['"]?\s*data:text\/html/i;
  const cssPlain = (s) => s.replace(/\/\*.*?\*\//g, "").replace(/\\([0-9a-f]{1,6})\s?/gi, (_, h) => String.fromCodePoint(parseInt(h, 16) || 32)).replace(/\\(.)/g, "$1").replace(/[\s\u0000-\u001f]+/g, "");

  const ALLOWED_FRAME_HOSTS = [
    "www.youtube.com", "www.youtube-nocookie.com", "youtube.com", "player.vimeo.com",
    "www.dailymotion.com", "w.soundcloud.com", "player.twitch.tv", "www.slideshare.net",
    "speakerdeck.com",
  ];
  const ALWAYS = new Set(["frame", "frameset", "object", "embed", "applet", "portal", "fencedframe",
    "form", "base", "link", "isindex", "import", "handler", "listener"]);
  const ANIMATIONS = new Set(["animate", "set", "animatemotion", "animatetransform", "animatecolor"]);

  const checkElement = (el, inHead) => {
    const name = String(call(P.localName, el)).toLowerCase();
    if (el === own) return;
    if (name === "script") add("element", el, {});
    else if (ALWAYS.has(name)) add("element", el, {});
    else if (name === "meta") {
      const eq = String(call(P.attr, el, "http-equiv") || "").toLowerCase();
      if (!inHead || eq === "refresh" || eq === "set-cookie" || eq === "x-ua-compatible") add("element", el, { attr: eq || null });
    } else if (name === "style") {
      if (!inHead) add("element", el, {});
      else if (BAD_STYLE.test(cssPlain(String(call(P.text, el))))) add("dangerous-style", el, {});
    } else if (name === "iframe") {
      const harness = CFG.frames && call(P.attr, el, "data-h") === CFG.token;
      if (!harness) {
        let host = null;
        let https = false;
        try {
          const u = new P.URL(call(P.attr, el, "src") || "", call(P.baseURI, el));
          host = u.hostname;
          https = u.protocol === "https:";
        } catch (e) {}
        if (!https || ALLOWED_FRAME_HOSTS.indexOf(host) < 0) add("element", el, { attr: "src", value: call(P.attr, el, "src") });
        else if (call(P.attr, el, "sandbox") === null) add("unsandboxed-frame", el, {});
      }
    } else if (ANIMATIONS.has(name)) {
      const target = String(call(P.attr, el, "attributeName") || "").toLowerCase();
      if (target === "href" || target === "xlink:href" || target.startsWith("on")) add("element", el, { attr: "attributeName", value: target });
    }
    const names = call(P.names, el);
    for (let i = 0; i < names.length; i++) {
      const attr = String(names[i]).toLowerCase();
      const value = String(call(P.attr, el, names[i]));
      if (attr.startsWith("on")) {
        add("handler-attr", el, { attr, value: value.slice(0, 120) });
      } else if (attr === "srcdoc") {
        add("srcdoc", el, { attr });
      } else if (attr === "style") {
        let parsed = "";
        try {
          parsed = String(call(P.styleText, call(P.style, el)));
        } catch (e) {}
        if (BAD_STYLE.test(cssPlain(value)) || BAD_STYLE.test(parsed)) add("dangerous-style", el, { attr, value: value.slice(0, 120) });
      } else if (URL_ATTRS.has(attr) && !(el === own && attr === "src")) {
        for (const u of urlsOf(attr, value)) {
          if (ANIM_ATTRS.has(attr)) {
            if (/^\s*(javascript|vbscript|data):/i.test(u.replace(/[\s\u0000-\u001f]/g, ""))) add("dangerous-url", el, { attr, value: u.slice(0, 120) });
            continue;
          }
          const proto = resolve(el, u);
          if (proto && BAD_PROTO.indexOf(proto) >= 0) add("dangerous-url", el, { attr, proto, value: u.slice(0, 120) });
        }
      }
    }
  };

  let walked = 0;
  const walk = (root, isDoc, head) => {
    const all = isDoc ? call(P.qsa, root, "*") : call(P.qsaIn, root, "*");
    for (let i = 0; i < all.length; i++) {
      const el = all[i];
      walked++;
      let inHead = false;
      for (let n = el; n; n = call(P.parent, n)) {
        if (n === head) {
          inHead = true;
          break;
        }
      }
      checkElement(el, inHead);
      const sr = call(P.shadow, el);
      if (sr) {
        add("shadow-root", el, {});
        walk(sr, false, head);
      }
    }
  };

  const HEX = [];
  for (let i = 0; i < 256; i++) HEX.push((i < 16 ? "0" : "") + i.toString(16));
  const hex = (s) => {
    const bytes = P.encoder.encode(s);
    const out = new Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = HEX[bytes[i]];
    return out.join("");
  };
  let box = null;
  const write = (report) => {
    if (!box) {
      box = call(P.create, doc, "pre");
      box.id = CFG.result;
      call(P.append, call(P.docEl, doc), box);
    }
    call(P.setText, box, hex(P.stringify(report)));
  };

  // A harness frame sends each report it writes to its page of frames (postMessage: the
  // message is queued with its data, so it survives the frame being navigated away right
  // after, as a meta refresh may do even before the frame's load event). The page of frames
  // keeps the latest report of each frame, keyed by the frame's window, and rewrites its own
  // report when one arrives. No polling: under --virtual-time-budget every timer moves virtual
  // time on, and a poll loop would spend the budget before a slow frame had loaded.
  let inHarnessFrame = false;
  try {
    const fe = win.frameElement;
    inHarnessFrame = !!fe && call(P.attr, fe, "data-h") === CFG.token;
  } catch (e) {}
  const contentWindow = get(HTMLIFrameElement.prototype, "contentWindow");
  const fromFrames = new Map();
  const gone = (frame) => {
    try {
      const d = call(P.frameDoc, frame);
      return !d || !call(P.byId, d, CFG.result);
    } catch (e) {
      return true;
    }
  };

  const report = (final) => {
    walked = 0;
    findings = cspFindings.slice();
    walk(doc, true, call(P.head, doc));
    const out = { checker: "gleaner", url: String(win.location.href), final, walked, csp_seen: csp.length, findings, containers: [], frame_navigations_blocked: framesBlocked.length };
    const boxes = call(P.qsa, doc, '[data-k="' + CFG.token + '"]');
    for (let i = 0; i < boxes.length; i++) out.containers.push(call(P.attr, boxes[i], "data-id"));
    if (CFG.frames) {
      out.frames = [];
      const frames = call(P.qsa, doc, 'iframe[data-h="' + CFG.token + '"]');
      for (let i = 0; i < frames.length; i++) {
        const r = fromFrames.get(call(contentWindow, frames[i])) || null;
        out.frames.push({ id: call(P.attr, frames[i], "data-id"), report: r, navigated_away: !!r && gone(frames[i]) });
      }
    }
    write(out);
    if (inHarnessFrame) {
      try {
        win.parent.postMessage({ gleaner: CFG.token, report: out }, "*");
      } catch (e) {}
    }
    return out;
  };

  let loaded = false;
  let pending = false;
  const finals = new Set();
  const frameCount = () => call(P.qsa, doc, 'iframe[data-h="' + CFG.token + '"]').length;
  if (CFG.frames) {
    call(P.listen, win, "message", (e) => {
      const d = e.data;
      if (!d || d.gleaner !== CFG.token || !d.report) return;
      fromFrames.set(e.source, d.report);
      if (d.report.final) finals.add(e.source);
      // Rewrite once every frame has sent its final report (a frame that navigated away never
      // will: the page's report from its load, and the fallback below, cover it).
      if (loaded && !pending && finals.size >= frameCount()) {
        pending = true;
        P.setTimeout(() => {
          pending = false;
          report(true);
        }, 0);
      }
    });
  }
  // A meta refresh takes a frame away soon after it is parsed: report before it can.
  if (inHarnessFrame) {
    const observer = new win.MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (n instanceof win.HTMLMetaElement && /refresh/i.test(String(call(P.attr, n, "http-equiv")))) {
            report(false);
            return;
          }
        }
      }
    });
    observer.observe(doc, { childList: true, subtree: true });
  }
  call(P.listen, win, "load", () => {
    loaded = true;
    report(false);
    P.setTimeout(() => report(true), CFG.frames ? 2000 : 500);
  });
})();
