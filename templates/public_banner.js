// breachnotice banner: shows the live breach notices of one controller as a
// notification banner (the GOV.UK notification banner pattern). Include it
// with <script src="https://HOST/banner.js" data-controller="ID" defer></script>.
// It writes text only with textContent, sets no cookie, loads nothing but
// HOST/banner.json, and needs no inline script or style: it runs under a
// CSP that allows HOST in script-src and connect-src.
(function () {
  "use strict";
  var labels = /*LABELS*/{};
  var script = document.currentScript;
  if (!script || !window.fetch) { return; }
  var base = new URL(script.src, document.baseURI);
  var controller = script.getAttribute("data-controller") || "";
  var src = new URL("/banner.json", base);
  if (controller) { src.searchParams.set("controller", controller); }

  function primary(tag) { return String(tag || "").toLowerCase().split(/[-_]/)[0]; }
  // The page's language, then the browser's, then the banner's own.
  function wanted() {
    var out = [primary(document.documentElement.lang)];
    var nav = navigator.languages || [navigator.language];
    for (var i = 0; i < nav.length; i++) { out.push(primary(nav[i])); }
    return out;
  }
  function pick(b) {
    var ws = wanted();
    for (var i = 0; i < ws.length; i++) {
      if (ws[i] === b.language) { return { lang: b.language, t: b }; }
      if (b.translations && b.translations[ws[i]]) { return { lang: ws[i], t: b.translations[ws[i]] }; }
    }
    return { lang: b.language, t: b };
  }
  function key(b) { return "breachnotice.dismissed." + b.controller + "." + b.incident; }
  function dismissed(b) {
    try { return window.localStorage.getItem(key(b)) === "1"; } catch (e) { return false; }
  }
  function dismiss(b) {
    try { window.localStorage.setItem(key(b), "1"); } catch (e) { /* private mode: dismissed for this page only */ }
  }
  function el(tag, text) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function safeLink(href) {
    try {
      var u = new URL(href, base);
      return (u.protocol === "https:" || u.protocol === "http:") ? u.href : "";
    } catch (e) { return ""; }
  }
  function style(e, css) { for (var k in css) { e.style[k] = css[k]; } }

  function show(b) {
    var p = pick(b);
    var l = labels[p.lang] || labels.en || { label: "Important", read: "Read the notice", close: "Dismiss this notice" };
    var id = "breachnotice-" + b.controller + "-" + b.incident;
    var region = el("div");
    region.className = "breachnotice-banner";
    region.id = id;
    region.setAttribute("role", "region");
    region.setAttribute("aria-labelledby", id + "-title " + id + "-heading");
    region.setAttribute("lang", p.lang);
    region.setAttribute("data-incident", String(b.incident));
    style(region, { border: "5px solid #1d70b8", background: "#1d70b8", color: "#0b0c0c", margin: "0 0 16px",
      fontFamily: "Arial, Helvetica, sans-serif", fontSize: "19px", lineHeight: "1.4", position: "relative",
      overflowWrap: "break-word", wordWrap: "break-word" });
    var header = el("div");
    style(header, { padding: "2px 48px 5px 15px", color: "#fff" });
    var title = el("h2", l.label);
    title.id = id + "-title";
    style(title, { margin: "0", fontSize: "19px", fontWeight: "700", color: "#fff" });
    header.appendChild(title);
    var content = el("div");
    style(content, { padding: "15px", background: "#fff" });
    var heading = el("p", p.t.headline);
    heading.id = id + "-heading";
    style(heading, { margin: "0 0 10px", fontSize: "22px", fontWeight: "700" });
    var summary = el("p", p.t.summary);
    style(summary, { margin: "0 0 10px" });
    content.appendChild(heading);
    content.appendChild(summary);
    var href = safeLink(p.t.link);
    if (href) {
      var para = el("p");
      style(para, { margin: "0" });
      var a = el("a", l.read);
      a.href = href;
      a.className = "breachnotice-banner__link";
      style(a, { color: "#1d70b8", fontWeight: "700" });
      para.appendChild(a);
      content.appendChild(para);
    }
    var close = el("button", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", l.close);
    close.className = "breachnotice-banner__close";
    style(close, { position: "absolute", top: "0", right: "0", minWidth: "44px", minHeight: "44px", border: "0",
      background: "transparent", color: "#fff", fontSize: "28px", cursor: "pointer" });
    close.addEventListener("click", function () {
      dismiss(b);
      region.parentNode && region.parentNode.removeChild(region);
    });
    region.appendChild(header);
    region.appendChild(content);
    region.appendChild(close);
    var target = document.getElementById("breachnotice-banner");
    if (target) { target.appendChild(region); } else { document.body.insertBefore(region, document.body.firstChild); }
  }

  fetch(src.href, { credentials: "omit", mode: "cors" }).then(function (r) {
    return r.ok ? r.json() : { banners: [] };
  }).then(function (doc) {
    var bs = (doc && doc.banners) || [];
    for (var i = bs.length - 1; i >= 0; i--) {
      if (!dismissed(bs[i])) { show(bs[i]); }
    }
  }).catch(function () { /* no banner rather than a broken page */ });
})();
