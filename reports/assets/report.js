// report.html's script (embedded into the page by reports/assets/embed.cmake): reads the
// JSON blob reports/html.cpp writes into #meshsim-data and draws every section as SVG.
// One time axis for every chart; a click anywhere (or a checker's / breaker's time link)
// sets the cursor, and the bar at the top says which faults and breakers were active then.
(function () {
  'use strict';
  var started = performance.now();
  var errors = [];
  function report_error(text) {
    errors.push(String(text));
    var box = document.getElementById('js-errors');
    if (box) box.appendChild(h('li', {}, String(text)));
    document.body.setAttribute('data-errors', String(errors.length));
  }
  window.addEventListener('error', function (e) { report_error('error: ' + e.message + ' at ' + e.lineno); });
  var console_error = console.error;
  console.error = function () {
    report_error('console.error: ' + Array.prototype.join.call(arguments, ' '));
    console_error.apply(console, arguments);
  };

  var SVG = 'http://www.w3.org/2000/svg';
  function h(tag, attrs, children) {
    var e = document.createElement(tag);
    set_attrs(e, attrs);
    append(e, children);
    return e;
  }
  function s(tag, attrs, children) {
    var e = document.createElementNS(SVG, tag);
    set_attrs(e, attrs);
    append(e, children);
    return e;
  }
  function set_attrs(e, attrs) {
    for (var k in attrs || {}) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
  }
  function append(e, children) {
    if (children === undefined || children === null) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
  }
  function title(text) { return s('title', {}, text); }

  // ---- time -------------------------------------------------------------------------
  function fmt_t(ns) {
    if (ns === null || ns === undefined) return '-';
    var sec = ns / 1e9;
    if (sec < 1) return +(ns / 1e6).toFixed(ns % 1e6 === 0 ? 0 : 3) + 'ms';
    if (sec < 60) return +sec.toFixed(3) + 's';
    var m = Math.floor(sec / 60), r = sec - m * 60;
    if (m < 60) return m + 'm' + +r.toFixed(3) + 's';
    return Math.floor(m / 60) + 'h' + (m % 60) + 'm' + +r.toFixed(0) + 's';
  }
  function finite(v) { return typeof v === 'number' && isFinite(v) ? v : null; }
  function parse_duration(text) {  // "1m30s", "500ms", "2.5s" -> ns (null when not one)
    if (typeof text === 'number') return finite(text);
    if (typeof text !== 'string') return null;
    var re = /([0-9.]+)(h|ms|us|µs|ns|m|s)/g, total = 0, m, seen = 0;
    var unit = { h: 3.6e12, m: 6e10, s: 1e9, ms: 1e6, us: 1e3, 'µs': 1e3, ns: 1 };
    while ((m = re.exec(text)) !== null) { total += parseFloat(m[1]) * unit[m[2]]; seen += m[0].length; }
    return seen === text.length && seen > 0 ? total : null;
  }

  // ---- data -------------------------------------------------------------------------
  var D = JSON.parse(document.getElementById('meshsim-data').textContent);
  var meta = D.meta || {};
  var bucket_ns = finite(meta.bucket_ns) || parse_duration(meta.bucket) || 1e9;
  if (!(bucket_ns > 0)) bucket_ns = 1e9;
  var end_ns = finite(meta.virtual_time_ns) || parse_duration(meta.virtual_time) || 0;
  function series_end(cols) {
    if (cols && Array.isArray(cols.t_ns) && cols.t_ns.length && finite(cols.t_ns[cols.t_ns.length - 1]) !== null) end_ns = Math.max(end_ns, cols.t_ns[cols.t_ns.length - 1] + bucket_ns);
  }
  Object.keys(D.workloads || {}).forEach(function (w) { series_end(D.workloads[w].series); });
  if (!(end_ns > 0)) end_ns = 1e9;
  // Series without t_ns (summary schema 1): bucket i starts at i buckets.
  function with_time(cols) {
    if (!cols || cols.t_ns) return;
    var n = 0;
    Object.keys(cols).forEach(function (k) { if (Array.isArray(cols[k])) n = Math.max(n, cols[k].length); });
    cols.t_ns = [];
    for (var i = 0; i < n; i++) cols.t_ns.push(i * bucket_ns);
    series_end(cols);
  }
  Object.keys(D.workloads || {}).forEach(function (w) { with_time(D.workloads[w].series); });
  Object.keys(D.services || {}).forEach(function (name) {
    (D.services[name].endpoints || []).forEach(function (e) { with_time(e.series); });
    Object.keys(D.services[name].instances || {}).forEach(function (i) { with_time(D.services[name].instances[i].series); });
  });
  (D.edges || []).forEach(function (e) { with_time(e.series); });
  // State events of the older events.jsonl: detail "breaker front->back=OPEN".
  (D.states || []).forEach(function (e) {
    var m = e.component === undefined && typeof e.detail === 'string' && /^(.*)=([A-Za-z_]+)$/.exec(e.detail);
    if (m) { e.component = m[1]; e.state = m[2]; }
    // Breaker states are written as resilience4j names (OPEN, HALF_OPEN): the page's are lower case.
    if (String(e.component || '').indexOf('breaker') === 0) {
      if (typeof e.state === 'string') e.state = e.state.toLowerCase();
      if (typeof e.from === 'string') e.from = e.from.toLowerCase();
    }
  });

  var OUTCOME_COLOURS = {
    ok: '#3a9d5d', http_error: '#f0a030', timeout: '#d64541', connection_refused: '#8e44ad',
    connection_reset: '#b05fc8', breaker_open: '#2c3e50', bulkhead_full: '#7f8c8d', throttled: '#2e86c1',
    decode_error: '#a0522d', deadline_exceeded: '#8b0000'
  };
  var PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324',
                 '#800000', '#469990', '#000075', '#808000', '#bfef45', '#fabed4', '#dcbeff', '#a9a9a9'];
  function hash_colour(name) {
    var x = 0;
    for (var i = 0; i < name.length; i++) x = (x * 31 + name.charCodeAt(i)) >>> 0;
    return PALETTE[x % PALETTE.length];
  }
  function outcome_colour(kind) { return OUTCOME_COLOURS[kind] || hash_colour(kind); }

  // Faults: schema 2 has start_ns/end_ns; otherwise labels, or the fault events by id.
  // Without ids in summary.json (schema 1) the fault events, which have them, are the list.
  var fault_events_have_ids = (D.nodes || []).some(function (e) { return e.kind === 'fault_start' && e.id !== undefined; });
  var summary_faults = (D.faults || []).filter(function (f) { return f !== null && typeof f === 'object'; });
  if (fault_events_have_ids && !summary_faults.some(function (f) { return f.id !== undefined; })) summary_faults = [];
  var faults = summary_faults.map(function (f, i) {
    var x = { spec: f, kind: f.kind || f.fault || 'fault', id: f.id !== undefined ? f.id : i,
              start: f.start_ns === undefined ? undefined : finite(f.start_ns), end: f.end_ns === undefined ? undefined : finite(f.end_ns) };
    if (x.start === undefined) x.start = parse_duration(f.at !== undefined ? f.at : f.start);
    if (x.end === undefined) {
      var d = parse_duration(f.duration !== undefined ? f.duration : f.length !== undefined ? f.length : f['for']);
      x.end = x.start !== null && d !== null ? x.start + d : null;
    }
    return x;
  });
  (D.nodes || []).forEach(function (e) {
    if ((e.kind !== 'fault_start' && e.kind !== 'fault_end') || e.id === undefined) return;
    var f = faults.filter(function (x) { return x.id === e.id; })[0];
    if (!f) {
      var spec = {};
      Object.keys(e).forEach(function (k) { if (k !== 't_ns' && k !== 'kind' && k !== 'node') spec[k] = e[k]; });
      f = { spec: spec, kind: String(e.fault || 'fault'), id: e.id, start: null, end: null };
      faults.push(f);
    }
    if (e.kind === 'fault_start' && (f.start === null || f.start === undefined)) f.start = e.t_ns;
    if (e.kind === 'fault_end' && (f.end === null || f.end === undefined)) f.end = e.t_ns;
  });
  faults = faults.filter(function (f) { return f.start !== null && f.start !== undefined; });
  var fault_kinds = [];
  faults.forEach(function (f) { if (fault_kinds.indexOf(f.kind) < 0) fault_kinds.push(f.kind); });
  fault_kinds.sort();
  function fault_colour(kind) { return PALETTE[fault_kinds.indexOf(kind) % PALETTE.length]; }
  function fault_params(f) {
    var parts = [];
    Object.keys(f.spec).forEach(function (k) {
      if (k === 'start_ns' || k === 'end_ns') return;
      parts.push(k + '=' + (typeof f.spec[k] === 'object' ? JSON.stringify(f.spec[k]) : f.spec[k]));
    });
    return parts.join(', ');
  }
  function faults_at(t) {
    return faults.filter(function (f) { return f.start <= t && (f.end === null || f.end === undefined || t < f.end); });
  }
  function fault_text(f) {
    return '#' + f.id + ' ' + f.kind + ' ' + fault_where(f) + '(' + fmt_t(f.start) + '–' +
           (f.end === null || f.end === undefined ? 'end' : fmt_t(f.end)) + ')';
  }
  function fault_where(f) {
    var w = [];
    ['service', 'instance', 'from', 'to', 'target', 'edge'].forEach(function (k) {
      if (f.spec[k] === undefined || typeof f.spec[k] === 'object') return;
      w.push(k === 'instance' ? 'instance ' + f.spec[k] : k === 'to' ? '→ ' + f.spec[k] : String(f.spec[k]));
    });
    return w.length ? w.join(' ') + ' ' : '';
  }

  // Adds the columns of several series (the endpoints of a service) bucket by bucket.
  function sum_columns(list) {
    var out = { t_ns: [] }, n = 0;
    list.forEach(function (c) { if (c && c.t_ns && c.t_ns.length > n) { n = c.t_ns.length; out.t_ns = c.t_ns.slice(); } });
    function add(target, values) {
      for (var i = 0; i < n; i++) target[i] = (target[i] || 0) + ((values && values[i]) || 0);
    }
    function mx(target, values) {
      for (var i = 0; i < n; i++) target[i] = Math.max(target[i] || 0, (values && values[i]) || 0);
    }
    out.arrivals = []; out.goodput = []; out.errors = []; out.queue_depth_max = []; out.by_outcome = {};
    list.forEach(function (c) {
      if (!c) return;
      add(out.arrivals, c.arrivals); add(out.goodput, c.goodput); add(out.errors, c.errors);
      mx(out.queue_depth_max, c.queue_depth_max);
      Object.keys(c.by_outcome || {}).forEach(function (k) {
        if (!out.by_outcome[k]) out.by_outcome[k] = [];
        add(out.by_outcome[k], c.by_outcome[k]);
      });
    });
    return out;
  }
  // Outcomes by kind, or ok/errors when the summary has no breakdown.
  function outcome_layers(c) {
    if (!c) return [];
    var kinds = Object.keys(c.by_outcome || {});
    if (kinds.length) {
      kinds.sort(function (a, b) { return a === 'ok' ? -1 : b === 'ok' ? 1 : a < b ? -1 : a > b ? 1 : 0; });
      return kinds.map(function (k) { return { name: k, colour: outcome_colour(k), values: c.by_outcome[k] }; });
    }
    return [{ name: 'goodput', colour: OUTCOME_COLOURS.ok, values: c.goodput || [] },
            { name: 'errors', colour: OUTCOME_COLOURS.timeout, values: c.errors || [] }];
  }

  // ---- charts ------------------------------------------------------------------------
  var LEFT = 190, RIGHT = 16, WIDTH = 1280, PLOT = WIDTH - LEFT - RIGHT;
  var cursors = [], cursor_t = null, listeners = [];
  function x_of(t) { return LEFT + (isFinite(t) ? Math.max(0, Math.min(1, t / end_ns)) : 0) * PLOT; }
  function t_of(x) { return Math.max(0, Math.min(1, (x - LEFT) / PLOT)) * end_ns; }

  function time_ticks(svg, y0, y1, labels) {
    var step = nice_step(end_ns / 8);
    for (var t = 0; t <= end_ns; t += step) {
      svg.appendChild(s('line', { x1: x_of(t), x2: x_of(t), y1: y0, y2: y1, 'class': 'grid' }));
      if (labels) svg.appendChild(s('text', { x: x_of(t), y: y1 + 11, 'text-anchor': 'middle' }, fmt_t(t)));
    }
  }
  function nice_step(raw) {
    var steps = [1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9, 2e9, 5e9, 1e10, 15e9, 3e10, 6e10, 12e10, 3e11,
                 6e11, 12e11, 18e11, 36e11, 72e11, 144e11, 288e11, 864e11];
    for (var i = 0; i < steps.length; i++) if (steps[i] >= raw) return steps[i];
    return Math.pow(10, Math.ceil(Math.log10(raw)));  // beyond days: a power of ten, still ~8 ticks
  }
  function shade_faults(svg, y0, y1) {
    faults.forEach(function (f) {
      var x0 = x_of(f.start), x1 = x_of(f.end === null || f.end === undefined ? end_ns : f.end);
      svg.appendChild(s('rect', { x: x0, y: y0, width: Math.max(1, x1 - x0), height: y1 - y0,
                                  fill: fault_colour(f.kind), opacity: 0.12, 'class': 'fault-shade' },
                        title(fault_text(f))));
    });
  }
  function add_cursor(svg, y0, y1) {
    var line = s('line', { x1: -10, x2: -10, y1: y0, y2: y1, 'class': 'cursor', visibility: 'hidden' });
    svg.appendChild(line);
    cursors.push(line);
    var hit = s('rect', { x: LEFT, y: y0, width: PLOT, height: y1 - y0, 'class': 'hit' });
    hit.addEventListener('click', function (ev) {
      var box = svg.getBoundingClientRect();
      set_cursor(t_of((ev.clientX - box.left) * WIDTH / box.width));
    });
    svg.appendChild(hit);
    if (cursor_t !== null) place(line);
  }
  function place(line) {
    line.setAttribute('x1', x_of(cursor_t)); line.setAttribute('x2', x_of(cursor_t));
    line.setAttribute('visibility', 'visible');
  }
  function set_cursor(t) {
    cursor_t = t;
    cursors.forEach(place);
    listeners.forEach(function (f) { f(t); });
  }
  function time_link(t, on_click) {
    var a = h('a', { 'class': 't', 'data-t-ns': t, tabindex: 0 }, fmt_t(t));
    a.addEventListener('click', function () { set_cursor(t); if (on_click) on_click(); });
    return a;
  }

  // A chart on the shared time axis. layers: [{name, colour, values}] (stacked) or lines.
  function chart(opts) {
    var height = opts.height || 90, top = 4, bottom = height - 14;
    var svg = s('svg', { viewBox: '0 0 ' + WIDTH + ' ' + height, width: '100%', 'class': 'chart',
                         'data-chart': opts.id || '' });
    time_ticks(svg, top, bottom, opts.axis !== false);
    shade_faults(svg, top, bottom);
    var t = opts.t || [];
    var n = t.length, ymax = opts.ymax || 0, stacked = [];
    if (opts.stacked) {
      var base = new Array(n).fill(0);
      opts.layers.forEach(function (l) {
        var lo = base.slice(), hi = base.map(function (b, i) { return b + (+l.values[i] || 0); });
        stacked.push({ l: l, lo: lo, hi: hi });
        base = hi;
      });
      base.forEach(function (v) { ymax = Math.max(ymax, v); });
    } else {
      opts.layers.forEach(function (l) { l.values.forEach(function (v) { if (v !== null && isFinite(v)) ymax = Math.max(ymax, +v); }); });
    }
    if (!(ymax > 0)) ymax = 1;
    function y_of(v) { return bottom - (v / ymax) * (bottom - top); }
    function xs(i) { return x_of(t[i]); }
    function xe(i) { return x_of(t[i] + bucket_ns); }
    if (opts.stacked) {
      stacked.forEach(function (st) {
        var d = '';
        for (var i = 0; i < n; i++) d += (i ? 'L' : 'M') + xs(i).toFixed(1) + ',' + y_of(st.hi[i]).toFixed(1) + 'L' + xe(i).toFixed(1) + ',' + y_of(st.hi[i]).toFixed(1);
        for (var j = n - 1; j >= 0; j--) d += 'L' + xe(j).toFixed(1) + ',' + y_of(st.lo[j]).toFixed(1) + 'L' + xs(j).toFixed(1) + ',' + y_of(st.lo[j]).toFixed(1);
        if (n) svg.appendChild(s('path', { d: d + 'Z', fill: st.l.colour, opacity: 0.85, 'data-layer': st.l.name }, title(st.l.name)));
      });
    } else {
      opts.layers.forEach(function (l) {
        var d = '', pen = false;
        for (var i = 0; i < n; i++) {
          var v = l.values[i];
          if (v === null || v === undefined || !isFinite(v)) { pen = false; continue; }
          // A bucket's value spans its bucket (a step), so nothing seems to start early.
          d += (pen ? 'L' : 'M') + xs(i).toFixed(1) + ',' + y_of(+v).toFixed(1) + 'L' + xe(i).toFixed(1) + ',' + y_of(+v).toFixed(1);
          pen = true;
        }
        if (d) svg.appendChild(s('path', { d: d, fill: 'none', stroke: l.colour, 'stroke-width': l.width || 1.4,
                                           'data-layer': l.name, 'stroke-dasharray': l.dash }, title(l.name)));
      });
    }
    if (opts.stacked && opts.rug) {
      // Few failures among many answers vanish in the areas: mark every bucket that has
      // any, in the colour of its commonest failure kind.
      for (var r = 0; r < n; r++) {
        var worst = null;
        opts.layers.forEach(function (l) {
          if (l.name === 'ok' || l.name === 'goodput' || !(+l.values[r] > 0)) return;
          if (!worst || +l.values[r] > +worst.values[r]) worst = l;
        });
        if (worst) {
          svg.appendChild(s('rect', { x: xs(r), y: top, width: Math.max(1, xe(r) - xs(r)), height: 3, fill: worst.colour,
                                      'class': 'failure-mark' }, title(fmt_t(t[r]) + ': ' + worst.name + ' ' + fmt_num(+worst.values[r]))));
        }
      }
    }
    (opts.bands || []).forEach(function (b) {  // e.g. an instance's down periods
      var x0 = x_of(b[0]), x1 = x_of(b[1] === null ? end_ns : b[1]);
      svg.appendChild(s('rect', { x: x0, y: top, width: Math.max(1, x1 - x0), height: bottom - top, fill: '#555',
                                  opacity: 0.25, 'class': 'down' }, title(b[2] || 'down')));
    });
    svg.appendChild(s('text', { x: LEFT - 6, y: top + 9, 'text-anchor': 'end' }, fmt_num(ymax) + (opts.unit || '')));
    svg.appendChild(s('text', { x: LEFT - 6, y: bottom, 'text-anchor': 'end' }, '0'));
    svg.appendChild(s('text', { x: 4, y: top + (bottom - top) / 2 + 4, 'class': 'label' }, opts.label || ''));
    add_cursor(svg, top, bottom);
    // Hover: the bucket's values.
    svg.lastChild.appendChild(title(''));
    svg.lastChild.addEventListener('mousemove', function (ev) {
      var box = svg.getBoundingClientRect(), at = t_of((ev.clientX - box.left) * WIDTH / box.width);
      var i = Math.min(n - 1, Math.max(0, Math.floor(at / bucket_ns)));
      var lines = [fmt_t(at)];
      opts.layers.forEach(function (l) { if (l.values[i]) lines.push(l.name + ': ' + fmt_num(+l.values[i])); });
      svg.lastChild.firstChild.textContent = lines.join('\n');
    });
    return svg;
  }
  function fmt_num(v) {
    v = +v;
    if (!isFinite(v)) return '-';
    if (Math.abs(v) >= 1e6) return +(v / 1e6).toFixed(2) + 'M';
    if (Math.abs(v) >= 1e4) return +(v / 1e3).toFixed(1) + 'k';
    return String(+(+v).toFixed(v < 10 ? 2 : 1));
  }
  function legend(items) {
    return h('div', { 'class': 'legend' }, items.map(function (it) {
      return h('span', {}, [h('i', { style: 'background:' + it.colour }), it.name]);
    }));
  }
  function section(id, heading, help) {
    var sec = h('section', { id: id }, [h('h2', {}, heading)]);
    if (help) sec.appendChild(h('p', { 'class': 'help' }, help));
    app.appendChild(sec);
    return sec;
  }
  function empty(text) { return h('p', { 'class': 'empty' }, text); }

  // ---- the page ----------------------------------------------------------------------
  var app = document.getElementById('app');
  var verdict = meta.verdict === 'pass' ? 'pass' : 'fail';
  var header = h('header', { id: 'run', 'data-verdict': meta.verdict }, [
    h('h1', {}, ['meshsim: ' + (meta.scenario || '?') + ' ', h('span', { 'class': 'verdict ' + verdict }, verdict.toUpperCase())]),
    h('div', { 'class': 'facts' }, [
      // A real-time run (meshsim serve) keeps no trace: no trace hash and no event count (null).
      'seed ', h('b', { id: 'seed' }, String(meta.seed)), ' · trace hash ',
      h('b', { id: 'trace-hash' }, meta.trace_hash === null ? 'none (real time)' : String(meta.trace_hash)),
      ' · ', h('b', {}, meta.virtual_time || fmt_t(end_ns)), meta.trace_hash === null ? ' real time' : ' virtual',
      ' · bucket ', h('b', {}, fmt_t(bucket_ns)),
      ' · ', meta.events === null ? 'no trace' : h('b', {}, fmt_num(meta.events || 0)), meta.events === null ? '' : ' events',
      ' · ', meta.scenario_file ? h('code', {}, meta.scenario_file) : 'built-in',
      ' · meshsim ', String(meta.meshsim_version)]),
    h('pre', { 'class': 'reproduce', id: 'reproduce', title: 'reproduce this run' }, meta.reproduce || ''),
    h('ul', { id: 'js-errors' })
  ]);
  app.appendChild(header);
  errors.forEach(function (e) { document.getElementById('js-errors').appendChild(h('li', {}, e)); });
  if (!meta.events_written) {
    header.appendChild(h('p', { 'class': 'note', id: 'missing-events' },
      'No events.jsonl was written (--events none): the breaker windows, node events and the sequence diagram are missing; the charts come from summary.json alone.'));
  } else if (!(meta.event_counts || {}).rpc_attempt) {
    header.appendChild(h('p', { 'class': 'note', id: 'missing-requests' },
      'events.jsonl has no rpc_attempt / rpc_serve events (--events summary): no sequence diagram.'));
  }
  var bar = h('div', { id: 'cursorbar' }, h('span', { 'class': 'empty' }, 'Click any chart, or a time link, to see what was going on at that moment.'));
  app.appendChild(bar);

  // The sampled request traces (rpc_attempt 'a' / rpc_serve 's' rows, see reports/html.cpp).
  var sample_names = (D.sample || {}).names || [];
  var traces = ((D.sample || {}).traces || []).map(function (pair) {
    var evs = pair[1].map(function (r) {
      return r[0] === 'a'
        ? { kind: 'a', t: r[1], node: sample_names[r[2]], peer: sample_names[r[3]], sent: r[4], status: r[5], attempt: r[6], outcome: sample_names[r[7]], reason: sample_names[r[8]], method: sample_names[r[9]], path: sample_names[r[10]], corr: r[11], span: r[12], parent: r[13] }
        : { kind: 's', t: r[1], node: sample_names[r[2]], peer: sample_names[r[3]], arrived: r[4], started: r[5], status: r[6], reason: sample_names[r[7]], method: sample_names[r[8]], path: sample_names[r[9]], corr: r[10], span: r[11], parent: r[12] };
    });
    var start = Infinity, failed = false, root = null;
    evs.forEach(function (e) {
      start = Math.min(start, e.kind === 'a' ? (e.sent !== null ? e.sent : e.t) : (e.arrived !== null ? e.arrived : e.t));
      if (e.kind === 'a' && e.outcome !== 'ok') failed = true;
      if (e.kind === 'a' && (e.parent === '-' || !root)) root = e;
    });
    return { key: pair[0], evs: evs, start: start, failed: failed, root: root };
  });
  traces.sort(function (a, b) { return a.start - b.start || (a.key < b.key ? -1 : 1); });
  // Node -> service (summary.json's instances; else the name without its "-N").
  var service_of = {};
  Object.keys(D.services || {}).forEach(function (name) { Object.keys(D.services[name].instances || {}).forEach(function (n) { service_of[n] = name; }); });
  function node_service(n) { return service_of[n] || String(n).replace(/-[0-9]+$/, ''); }
  // What the sampled attempts of a caller on an edge ended in, in the two buckets before t.
  var attempts_by_caller = {};
  traces.forEach(function (tr) {
    tr.evs.forEach(function (e) { if (e.kind === 'a') (attempts_by_caller[e.node] = attempts_by_caller[e.node] || []).push(e); });
  });
  Object.keys(attempts_by_caller).forEach(function (n) { attempts_by_caller[n].sort(function (a, b) { return a.t - b.t; }); });
  // What the sampled attempts of a caller on an edge that failed ended in, in the lookback before t.
  function sampled_failures(caller, callee_service, t, lookback) {
    var list = attempts_by_caller[caller] || [], lo = 0, hi = list.length, counts = {};
    while (lo < hi) { var mid = (lo + hi) >> 1; if (list[mid].t < t - lookback) lo = mid + 1; else hi = mid; }
    for (var i = lo; i < list.length && list[i].t <= t; i++) {
      var e = list[i];
      if (e.outcome === 'ok' || node_service(e.peer) !== callee_service) continue;
      var k = e.outcome + (e.reason && e.reason !== '-' ? ' (' + e.reason + ')' : '');
      counts[k] = (counts[k] || 0) + 1;
    }
    return Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a] || (a < b ? -1 : 1); })
      .map(function (k) { return k + ' ' + counts[k]; }).join(', ');
  }

  // Breaker transitions: state events (with their window), else the summary's list.
  var transitions = [], last_state = {};
  (D.states || []).forEach(function (e) {
    var comp = String(e.component || '');
    if (comp.indexOf('breaker') !== 0 || finite(e.t_ns) === null) return;
    var key = e.node + ' ' + comp, from = e.from !== undefined ? e.from : last_state[key] || 'closed';
    last_state[key] = e.state;
    transitions.push({ t: e.t_ns, node: e.node, component: comp, from: from, to: e.state,
                       failure_rate: e.failure_rate, slow_rate: e.slow_rate, calls: e.calls, failed: e.failed, slow: e.slow });
  });
  if (!transitions.length) {
    (D.edges || []).forEach(function (edge) {
      (edge.breaker_transitions || []).forEach(function (x) {
        if (finite(x.t_ns) === null) return;
        transitions.push({ t: x.t_ns, node: x.instance, component: 'breaker ' + edge.from + '->' + edge.to, to: x.to });
      });
    });
    transitions.sort(function (a, b) { return a.t - b.t; });
  }
  // The edge of a breaker transition ("breaker front->back").
  function edge_of(x) {
    var m = /([^ ]+)->([^ ]+)$/.exec(x.component);
    return m ? { from: m[1], to: m[2] } : { from: '?', to: String(x.component) };
  }
  function breakers_at(t) {
    var last = {};
    transitions.forEach(function (x) { if (x.t <= t) last[x.node + ' ' + x.component] = x; });
    return Object.keys(last).map(function (k) { return last[k]; }).filter(function (x) { return x.to !== 'closed'; });
  }
  listeners.push(function (t) {
    bar.textContent = '';
    var fs = faults_at(t), bs = breakers_at(t);
    append(bar, [h('span', { 'class': 't' }, 'at ' + fmt_t(t)), ' · faults active: ',
                 fs.length ? fs.map(fault_text).join('; ') : 'none', ' · breakers not closed: ',
                 bs.length ? bs.map(function (x) { var e = edge_of(x); return x.node + ' → ' + e.to + ' ' + x.to; }).join('; ') : 'none']);
  });

  // Fault band.
  (function () {
    var sec = section('faults', 'Faults', 'Each fault on its own row, coloured by kind; hover for its parameters.');
    sec.setAttribute('data-count', faults.length);
    if (!faults.length) { sec.appendChild(empty('No faults in this run.')); return; }
    sec.appendChild(legend(fault_kinds.map(function (k) { return { name: k, colour: fault_colour(k) }; })));
    var row = 14, height = faults.length * row + 20;
    var svg = s('svg', { viewBox: '0 0 ' + WIDTH + ' ' + height, width: '100%' });
    time_ticks(svg, 2, height - 14, true);
    faults.forEach(function (f, i) {
      var x0 = x_of(f.start), x1 = x_of(f.end === null || f.end === undefined ? end_ns : f.end);
      svg.appendChild(s('text', { x: LEFT - 6, y: 2 + i * row + 10, 'text-anchor': 'end' }, '#' + f.id + ' ' + f.kind));
      svg.appendChild(s('rect', { x: x0, y: 2 + i * row, width: Math.max(2, x1 - x0), height: row - 3, rx: 2,
                                  fill: fault_colour(f.kind), 'class': 'fault', 'data-fault-id': f.id, 'data-kind': f.kind },
                        title(fault_text(f) + '\n' + fault_params(f))));
    });
    (D.nodes || []).forEach(function (e) {
      if (e.kind !== 'node_crash' && e.kind !== 'node_restart' && e.kind !== 'node_pause' && e.kind !== 'node_resume') return;
      svg.appendChild(s('path', { d: 'M' + x_of(e.t_ns) + ',' + (height - 14) + 'l-3,-6h6z', fill: e.kind === 'node_crash' || e.kind === 'node_pause' ? '#c62828' : '#1a7f37',
                                  'class': 'node-event' }, title(e.kind + ' ' + e.node + ' at ' + fmt_t(e.t_ns))));
    });
    add_cursor(svg, 2, height - 14);
    sec.appendChild(svg);
    // The parameters as text too, not only on hover.
    sec.appendChild(h('div', { 'class': 'scroll' }, h('table', { 'class': 'fault-list' }, [h('tr', {}, ['fault', 'where', 'when', 'parameters'].map(function (x) { return h('th', {}, x); }))].concat(
      faults.map(function (f) {
        return h('tr', {}, [h('td', {}, '#' + f.id + ' ' + f.kind), h('td', {}, fault_where(f)),
                            h('td', {}, [time_link(f.start), '–', f.end === null || f.end === undefined ? 'end' : fmt_t(f.end)]), h('td', {}, fault_params(f))]);
      })))));
  })();

  // Checks (early: the first thing a reader of a failed run wants).
  (function () {
    var checks = D.checks || [];
    var sec = section('checks', 'Checks', 'A failed check links to the moment it first failed: the cursor moves there on every chart.');
    sec.setAttribute('data-count', checks.length);
    if (!checks.length) { sec.appendChild(empty('No checks.')); return; }
    var rows = checks.map(function (c, i) {
      var t = c.first_failed_ns !== undefined ? finite(c.first_failed_ns) : parse_duration(c.first_failed);
      var tr = h('tr', { 'class': 'check ' + (c.passed ? 'passed' : 'failed'), id: 'check-' + i, 'data-passed': String(!!c.passed) }, [
        h('td', { 'class': 'res' }, c.passed ? 'ok' : 'FAIL'), h('td', {}, String(c.check || '')), h('td', {}, String(c.label || '')),
        h('td', {}, String(c.expected || '')), h('td', {}, String(c.measured || '')),
        h('td', {}, t === null || t === undefined ? '' : time_link(t, function () {
          document.querySelectorAll('tr.highlight').forEach(function (r) { r.classList.remove('highlight'); });
          tr.classList.add('highlight');
          var target = document.getElementById('lanes');
          if (target) target.scrollIntoView({ block: 'start' });
          cursors.forEach(function (c2) { c2.classList.remove('flash'); void c2.getBBox(); c2.classList.add('flash'); });
        }))]);
      return tr;
    });
    sec.appendChild(h('table', {}, [h('tr', {}, ['', 'check', 'label', 'expected', 'measured', 'first failed'].map(function (x) { return h('th', {}, x); }))].concat(rows)));
  })();

  // Breaker transitions with their window and the faults active then: "when, and why".
  (function () {
    var sec = section('breakers', 'Circuit breakers', 'Each transition with the window that caused it (failure and slow-call rates over the calls counted) and the faults active at that moment. Click a time to move the cursor.');
    sec.setAttribute('data-count', transitions.length);
    // One strip per caller instance and edge: from the transitions (exact times, every
    // state) when there are any, else the summary's per-bucket states.
    var colours = { closed: '#cfe8d6', half_open: '#f5c26b', open: '#d64541' };
    var strips = [], by_key = {};
    transitions.forEach(function (x) {
      var key = x.node + ' ' + x.component;
      if (!by_key[key]) { by_key[key] = { label: x.node + ' → ' + edge_of(x).to, changes: [] }; strips.push(by_key[key]); }
      by_key[key].changes.push(x);
    });
    strips.forEach(function (st) {
      st.segments = [];
      var at = 0, state = st.changes[0].from || 'closed';
      st.changes.forEach(function (x) { st.segments.push([at, x.t, state]); at = x.t; state = x.to; });
      st.segments.push([at, end_ns, state]);
    });
    if (!strips.length) {
      (D.edges || []).forEach(function (edge) {
        var cols = edge.series || {};
        var per = cols.breakers ? Object.keys(cols.breakers).map(function (n) { return [n, cols.breakers[n]]; })
                : cols.breaker && cols.breaker.some(function (x) { return x; }) ? [[edge.from, cols.breaker]] : [];
        per.forEach(function (p) {
          var st = { label: p[0] + ' → ' + edge.to + ' (worst state per bucket)', segments: [] };
          (cols.t_ns || []).forEach(function (t, b) { if (p[1][b]) st.segments.push([t, t + bucket_ns, p[1][b]]); });
          strips.push(st);
        });
      });
    }
    if (strips.length) {
      var row = 12, height = strips.length * row + 18;
      var svg = s('svg', { viewBox: '0 0 ' + WIDTH + ' ' + height, width: '100%', 'data-chart': 'breaker-states' });
      time_ticks(svg, 2, height - 14, true);
      shade_faults(svg, 2, height - 14);
      strips.forEach(function (st, i) {
        svg.appendChild(s('text', { x: LEFT - 6, y: 2 + i * row + 9, 'text-anchor': 'end' }, st.label));
        st.segments.forEach(function (g) {
          if (!(g[1] > g[0])) return;
          svg.appendChild(s('rect', { x: x_of(g[0]), y: 2 + i * row, width: Math.max(1, x_of(g[1]) - x_of(g[0])),
                                      height: row - 2, fill: colours[g[2]] || '#ccc', 'class': 'breaker-state', 'data-state': g[2] },
                            title(st.label + ': ' + g[2] + ' ' + fmt_t(g[0]) + '–' + fmt_t(g[1]))));
        });
      });
      add_cursor(svg, 2, height - 14);
      sec.appendChild(legend([{ name: 'closed', colour: colours.closed }, { name: 'half open', colour: colours.half_open }, { name: 'open', colour: colours.open }]));
      sec.appendChild(svg);
    }
    // Each breaker's settings: what its window is measured against.
    var settings = (D.edges || []).filter(function (e) { return e.breaker && typeof e.breaker === 'object'; });
    if (settings.length) {
      sec.appendChild(h('ul', { 'class': 'breaker-settings' }, settings.map(function (e) {
        var b = e.breaker;
        return h('li', {}, [h('b', {}, e.from + ' → ' + e.to), ': opens when at least ' + fmt_num(b.failure_rate_threshold_percent) +
          '% of the calls in its window failed, or ' + fmt_num(b.slow_call_rate_threshold_percent) + '% were slower than ' +
          fmt_t(b.slow_call_duration_threshold_ns) + '; window: the last ' + b.window + ', judged once ' + b.minimum_calls +
          ' calls are in it; stays open ' + fmt_t(b.wait_in_open_ns) + ', then lets ' + b.permitted_calls_in_half_open +
          ' trial calls through (half open) and closes or opens again by their rates.']);
      })));
    }
    if (!transitions.length) { sec.appendChild(empty('No breaker changed state.')); return; }
    var lookback = 2 * bucket_ns;
    var rows = transitions.map(function (x) {
      var fs = faults_at(x.t), edge = edge_of(x);
      // Leaving open is the wait ending, not a window's verdict: no window to show.
      var windowless = x.from === 'open' || x.calls === undefined;
      return h('tr', { 'class': 'breaker-transition', 'data-to': x.to }, [
        h('td', {}, time_link(x.t)), h('td', {}, String(x.node === undefined ? '-' : x.node)), h('td', {}, edge.from + ' → ' + edge.to),
        h('td', {}, [h('span', { 'class': 'state-' + x.from }, x.from || '?'), ' → ', h('span', { 'class': 'state-' + x.to }, x.to)]),
        h('td', {}, windowless || x.failure_rate === undefined ? '—' : fmt_num(x.failure_rate) + '%'),
        h('td', {}, windowless || x.slow_rate === undefined ? '—' : fmt_num(x.slow_rate) + '%'),
        h('td', {}, windowless ? (x.from === 'open' ? 'wait over' : '—') : String(x.calls) +
          (x.failed !== undefined ? ' (' + x.failed + ' failed, ' + (x.slow || 0) + ' slow)' : '')),
        h('td', {}, sampled_failures(x.node, edge.to, x.t, lookback) || 'none sampled'),
        h('td', {}, fs.length ? fs.map(fault_text).join('; ') : 'none')]);
    });
    sec.appendChild(h('div', { 'class': 'scroll' }, h('table', {}, [h('tr', {}, ['time', 'caller', 'edge', 'change', 'failure rate', 'slow rate', 'calls in window',
      'failed attempts in the ' + fmt_t(lookback) + ' before (sampled traces)', 'faults active'].map(function (x) { return h('th', {}, x); }))].concat(rows))));
    var ejections = (D.states || []).filter(function (e) { return e.cause !== undefined || e.instance !== undefined && String(e.component || '').indexOf('breaker') !== 0; });
    if (ejections.length) {
      sec.appendChild(h('h2', {}, 'Outlier ejections'));
      sec.appendChild(h('div', { 'class': 'scroll' }, h('table', {}, [h('tr', {}, ['time', 'at', 'component', 'state', 'instance', 'cause', 'for'].map(function (x) { return h('th', {}, x); }))].concat(ejections.map(function (e) {
        return h('tr', { 'class': 'ejection' }, [h('td', {}, time_link(e.t_ns)), h('td', {}, String(e.node)), h('td', {}, String(e.component)), h('td', {}, String(e.state)),
          h('td', {}, String(e.instance || '')), h('td', {}, String(e.cause || '')), h('td', {}, e.ejected_for_ns === undefined ? '' : fmt_t(e.ejected_for_ns))]);
      })))));
    }
  })();

  // Per-service lanes: outcomes by kind over time, expandable to instances.
  (function () {
    var names = Object.keys(D.services || {});
    var sec = section('lanes', 'Services', 'Requests that reached each service, by outcome, per bucket (faults shaded); a mark along the top of a lane is a bucket with any failure, in the colour of its commonest kind (hover for the count). Open a lane for its instances (grey: down).');
    sec.setAttribute('data-count', names.length);
    var kinds = {};
    names.forEach(function (name) {
      var svc = D.services[name];
      var cols = sum_columns((svc.endpoints || []).map(function (e) { return e.series; }));
      outcome_layers(cols).forEach(function (l) { kinds[l.name] = l.colour; });
      var details = h('details', { 'class': 'lane', 'data-service': name });
      var summary = h('summary', {}, chart({ id: 'lane-' + name, label: name, t: cols.t_ns, stacked: true, rug: true, layers: outcome_layers(cols), height: 60, axis: false }));
      details.appendChild(summary);
      var drawn = false;
      details.addEventListener('toggle', function () {
        if (drawn || !details.open) return;
        drawn = true;
        var instances = svc.instances || {};
        var nodes = Object.keys(instances);
        if (!nodes.length) details.appendChild(empty('No per-instance series in summary.json.'));
        nodes.forEach(function (node) {
          var inst = instances[node], c = inst.series || {};
          var div = h('div', { 'class': 'lane-instance', 'data-instance': node });
          div.appendChild(chart({ id: 'instance-' + node, label: '  ' + node, t: c.t_ns, stacked: true, rug: true, layers: outcome_layers(c), height: 46, axis: false,
                                  bands: (inst.down || []).map(function (d) { return [d[0], d[1], node + ' down']; }) }));
          if (c.queue_depth_max) div.appendChild(chart({ id: 'queue-' + node, label: '  ' + node + ' queue', t: c.t_ns, layers: [{ name: 'queue depth max', colour: '#555', values: c.queue_depth_max }], height: 36, axis: false }));
          details.appendChild(div);
        });
      });
      sec.appendChild(details);
    });
    if (!names.length) sec.appendChild(empty('No services.'));
    sec.insertBefore(legend(Object.keys(kinds).map(function (k) { return { name: k, colour: kinds[k] }; })), sec.children[2] || null);
  })();

  // Latency quantiles and throughput for a chosen flow (workloads first, then endpoints).
  (function () {
    var sec = section('latency', 'Latency and throughput', 'p50 / p90 / p99 per bucket of every answered call of the flow chosen, failures included: a call failed at once (an open breaker, a full queue) counts with its ~0 ms, so the quantiles drop while a breaker is open. Then arrivals, goodput and errors per second (faults shaded).');
    var flows = [];
    Object.keys(D.workloads || {}).forEach(function (w) { flows.push({ name: 'workload ' + w, cols: D.workloads[w].series || {} }); });
    Object.keys(D.services || {}).forEach(function (name) {
      (D.services[name].endpoints || []).forEach(function (e) { flows.push({ name: 'endpoint ' + name + ' ' + (e.path || ''), cols: e.series || {} }); });
    });
    sec.setAttribute('data-count', flows.length);
    if (!flows.length) { sec.appendChild(empty('No flows.')); return; }
    var select = h('select', { id: 'flow-select' }, flows.map(function (f, i) { return h('option', { value: i }, f.name); }));
    sec.appendChild(h('div', { 'class': 'controls' }, ['flow ', select]));
    var box = h('div');
    sec.appendChild(box);
    function draw() {
      box.textContent = '';
      var c = flows[+select.value].cols, per_s = 1e9 / bucket_ns;
      function rate(v) { return (v || []).map(function (x) { return x === null ? null : x * per_s; }); }
      var q = [];
      if (c.p50_ms) q.push({ name: 'p50', colour: '#3a9d5d', values: c.p50_ms });
      if (c.p90_ms) q.push({ name: 'p90', colour: '#f0a030', values: c.p90_ms });
      if (c.p99_ms) q.push({ name: 'p99', colour: '#d64541', values: c.p99_ms });
      box.appendChild(legend(q));
      box.appendChild(chart({ id: 'latency', label: 'latency', unit: 'ms', t: c.t_ns, layers: q, height: 130 }));
      var r = [{ name: 'arrivals/s', colour: '#4363d8', values: rate(c.arrivals) }, { name: 'goodput/s', colour: '#3a9d5d', values: rate(c.goodput) },
               { name: 'errors/s', colour: '#d64541', values: rate(c.errors) }];
      box.appendChild(legend(r));
      box.appendChild(chart({ id: 'throughput', label: 'throughput', unit: '/s', t: c.t_ns, layers: r, height: 130 }));
    }
    select.addEventListener('change', draw);
    draw();
  })();

  // Retry amplification: attempts per call on each edge, per bucket.
  (function () {
    var sec = section('retries', 'Retry amplification', 'Attempts sent per call started on each edge (1 = no retries or hedges; under 1 while calls fail before any attempt is sent: an open breaker, a full bulkhead); the ten edges that amplified most.');
    var lines = [];
    (D.edges || []).forEach(function (edge) {
      var c = edge.series || {};
      if (!c.attempts || !c.arrivals) return;
      var values = c.arrivals.map(function (a, i) { return a ? (c.attempts[i] || 0) / a : null; });
      var peak = 0;
      values.forEach(function (v) { if (v !== null) peak = Math.max(peak, v); });
      lines.push({ name: edge.from + ' → ' + edge.to, values: values, peak: peak, t: c.t_ns });
    });
    sec.setAttribute('data-count', lines.length);
    if (!lines.length) { sec.appendChild(empty('No per-bucket attempts in summary.json.')); return; }
    lines.sort(function (a, b) { return b.peak - a.peak || (a.name < b.name ? -1 : 1); });
    lines = lines.slice(0, 10);
    lines.forEach(function (l, i) { l.colour = PALETTE[i % PALETTE.length]; });
    sec.appendChild(legend(lines.map(function (l) { return { name: l.name + ' (peak ' + fmt_num(l.peak) + '×)', colour: l.colour }; })));
    sec.appendChild(chart({ id: 'retries', label: 'attempts / call', unit: '×', t: lines[0].t, layers: lines, height: 130 }));
    // Where a retry budget or throttle held retries back: the calls that ended refused.
    var refused = [];
    (D.edges || []).concat(Object.keys(D.workloads || {}).map(function (w) { var x = D.workloads[w]; return { name: 'workload ' + w, series: x.series, call_ends: x.call_ends }; }))
      .forEach(function (e) {
        var c = e.series || {};
        if (!c.retries_refused || !c.retries_refused.some(function (v) { return v > 0; })) return;
        var ends = e.call_ends || {};
        refused.push({ name: (e.name || e.from + ' → ' + e.to) + ' (budget ' + (ends.budget_exhausted || 0) + ', throttle ' + (ends.retry_throttled || 0) + ')',
                       values: c.retries_refused, t: c.t_ns });
      });
    if (refused.length) {
      refused.forEach(function (l, i) { l.colour = PALETTE[i % PALETTE.length]; });
      sec.appendChild(h('p', { 'class': 'help' }, 'Calls that ended because the retry budget or the retry throttle refused their retry, per bucket:'));
      sec.appendChild(legend(refused.map(function (l) { return { name: l.name, colour: l.colour }; })));
      sec.appendChild(chart({ id: 'retries-refused', label: 'retries refused', t: refused[0].t, layers: refused, height: 90 }));
    }
  })();

  // Queue depth per service (deepest ten).
  (function () {
    var sec = section('queues', 'Queue depth', 'Deepest queue per bucket, per service (the ten deepest; per instance in the service lanes).');
    var lines = [];
    Object.keys(D.services || {}).forEach(function (name) {
      var cols = sum_columns((D.services[name].endpoints || []).map(function (e) { return e.series; }));
      var peak = Math.max.apply(null, [0].concat(cols.queue_depth_max));
      lines.push({ name: name, values: cols.queue_depth_max, peak: peak, t: cols.t_ns });
    });
    lines.sort(function (a, b) { return b.peak - a.peak || (a.name < b.name ? -1 : 1); });
    lines = lines.filter(function (l) { return l.peak > 0; }).slice(0, 10);
    sec.setAttribute('data-count', lines.length);
    if (!lines.length) { sec.appendChild(empty('No queue built up.')); return; }
    lines.forEach(function (l, i) { l.colour = PALETTE[i % PALETTE.length]; });
    sec.appendChild(legend(lines.map(function (l) { return { name: l.name + ' (max ' + l.peak + ')', colour: l.colour }; })));
    sec.appendChild(chart({ id: 'queues', label: 'queue depth', t: lines[0].t, layers: lines, height: 110 }));
  })();

  // Convergence lag of the data checkers.
  (function () {
    var checks = (D.checks || []).filter(function (c) { return c.lag_series && c.lag_series.t_ns; });
    var sec = section('convergence', 'Convergence lag', 'For the data checkers that measure it: the largest lag of a record not yet converged, and how many were pending.');
    sec.setAttribute('data-count', checks.length);
    if (!checks.length) { sec.appendChild(empty('No checker in this run measures convergence lag.')); return; }
    checks.forEach(function (c) {
      var l = c.lag_series;
      sec.appendChild(legend([{ name: (c.label || c.check) + ': max lag (ms)', colour: '#4363d8' }, { name: 'pending', colour: '#aaa' }]));
      sec.appendChild(chart({ id: 'lag', label: String(c.label || c.check), unit: 'ms', t: l.t_ns, layers: [{ name: 'max lag ms', colour: '#4363d8', values: l.max_lag_ms || [] }], height: 90 }));
      sec.appendChild(chart({ id: 'pending', label: 'pending', t: l.t_ns, layers: [{ name: 'pending', colour: '#888', values: l.pending || [] }], height: 50, axis: false }));
    });
  })();

  // Message sequence (Lamport) diagram from the sampled rpc_attempt / rpc_serve events.
  (function () {
    var sample = D.sample || {};
    var sec = section('sequence', 'Message sequence', 'Requests (solid) and responses (dashed) between nodes for one sampled trace, or every sampled trace in a time window; time runs down. Hover an arrow for its details. The sample keeps whole traces: ' +
      (sample.first_traces || 0) + ' first ones, then one in ' + Math.pow(2, sample.level || 0) + ' by a hash of the trace id.');
    sec.setAttribute('data-count', traces.length);
    if (!traces.length) { sec.appendChild(empty(meta.events_written ? 'No request events were sampled (run with --events requests or all).' : 'No events.jsonl: no requests to draw.')); return; }
    var select = h('select', { id: 'trace-select' }, traces.map(function (tr, i) {
      var r = tr.root || tr.evs[0];
      return h('option', { value: i }, fmt_t(tr.start) + ' ' + (r.method || '') + ' ' + (r.path || '') + ' ' + (r.corr && r.corr !== '-' ? r.corr + ' ' : '') + (tr.failed ? '✗' : '✓'));
    }));
    var from = h('input', { id: 'window-from', placeholder: 'from (e.g. 12s)' }), to = h('input', { id: 'window-to', placeholder: 'to' });
    var search = h('input', { id: 'trace-search', placeholder: 'correlation or trace id', style: 'width:200px' });
    var show_window = h('button', {}, 'show window');
    sec.appendChild(h('div', { 'class': 'controls' }, ['trace ', select, ' or ', search, ' or window ', from, to, show_window, ' (the cursor sets the window too)']));
    var box = h('div', { id: 'sequence-diagram' });
    sec.appendChild(box);
    function draw(list, caption) {
      box.textContent = '';
      var evs = [];
      list.forEach(function (tr) { evs = evs.concat(tr.evs); });
      evs = evs.slice(0, 600);
      var nodes = [], serves = {};
      function node(n) { if (n && n !== '-' && nodes.indexOf(n) < 0) nodes.push(n); }
      evs.forEach(function (e) { if (e.kind === 'a') { node(e.node); node(e.peer); } });
      evs.forEach(function (e) { if (e.kind === 's') { node(e.peer); node(e.node); serves[e.parent] = e; } });
      var t0 = Infinity, t1 = -Infinity;
      evs.forEach(function (e) { [e.t, e.sent, e.arrived].forEach(function (v) { if (v !== null && v !== undefined) { t0 = Math.min(t0, v); t1 = Math.max(t1, v); } }); });
      if (!(t1 > t0)) t1 = t0 + 1e6;
      var col = Math.max(90, Math.min(200, (WIDTH - 80) / Math.max(1, nodes.length))), height = 440, top = 34;
      var width = Math.max(WIDTH, 80 + col * nodes.length);
      var svg = s('svg', { viewBox: '0 0 ' + width + ' ' + (height + top + 10), width: width > WIDTH ? width : '100%', 'data-chart': 'sequence' });
      svg.appendChild(s('defs', {}, [
        s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0L10,5L0,10z', fill: '#444' })),
        s('marker', { id: 'arrow-bad', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0L10,5L0,10z', fill: '#d64541' }))]));
      function nx(n) { return 60 + col * nodes.indexOf(n) + col / 2; }
      function ty(t) { return top + (t - t0) / (t1 - t0) * height; }
      nodes.forEach(function (n) {
        svg.appendChild(s('text', { x: nx(n), y: 14, 'text-anchor': 'middle', 'class': 'label' }, n));
        svg.appendChild(s('line', { x1: nx(n), x2: nx(n), y1: 20, y2: top + height, stroke: '#bbb' }));
      });
      svg.appendChild(s('text', { x: 4, y: top + 4 }, fmt_t(t0)));
      svg.appendChild(s('text', { x: 4, y: top + height }, fmt_t(t1)));
      faults.forEach(function (f) {
        var fe = f.end === null || f.end === undefined ? end_ns : f.end;
        if (fe < t0 || f.start > t1) return;
        var y0 = ty(Math.max(t0, f.start)), y1 = ty(Math.min(t1, fe));
        svg.appendChild(s('rect', { x: 50, y: y0, width: width - 50, height: Math.max(1, y1 - y0), fill: fault_colour(f.kind), opacity: 0.06 }, title(fault_text(f))));
      });
      var count = 0;
      function arrow(x0, y0, x1, y1, bad, dashed, text, cls) {
        var g = s('g', { 'class': cls }, [
          s('line', { x1: x0, y1: y0, x2: x1, y2: y1, stroke: bad ? '#d64541' : '#444', 'stroke-width': 1.3, 'stroke-dasharray': dashed ? '4 3' : null, 'marker-end': bad ? 'url(#arrow-bad)' : 'url(#arrow)' }),
          s('line', { x1: x0, y1: y0, x2: x1, y2: y1, stroke: 'transparent', 'stroke-width': 8 })]);
        g.appendChild(title(text));
        svg.appendChild(g);
        count++;
      }
      evs.forEach(function (e) {
        if (e.kind !== 'a') return;
        var serve = serves[e.span];
        var sent = e.sent !== null && e.sent !== undefined ? e.sent : e.t;
        var bad = e.outcome !== 'ok';
        var what = e.method + ' ' + e.path + ' attempt ' + e.attempt + (e.corr !== '-' ? ' corr ' + e.corr : '');
        if (e.peer === '-' || !e.peer || nodes.indexOf(e.peer) < 0) {
          svg.appendChild(s('circle', { cx: nx(e.node), cy: ty(e.t), r: 4, fill: '#d64541', 'class': 'msg' }, title(e.node + ': ' + what + ' never sent: ' + e.outcome + ' at ' + fmt_t(e.t))));
          count++;
          return;
        }
        var arrive = serve && serve.arrived !== null ? serve.arrived : e.t;
        arrow(nx(e.node), ty(sent), nx(e.peer), ty(arrive), bad && !serve, false,
              e.node + ' → ' + e.peer + ': ' + what + '\nsent ' + fmt_t(sent) + (serve ? ', arrived ' + fmt_t(serve.arrived) + ', handler from ' + fmt_t(serve.started) : ', never served') + '\nspan ' + e.span, 'msg request');
        if (serve) {
          arrow(nx(e.peer), ty(serve.t), nx(e.node), ty(e.t), bad, true,
                e.peer + ' → ' + e.node + ': ' + e.status + ' ' + e.outcome + (serve.reason && serve.reason !== 'ok' ? ' (' + serve.reason + ')' : '') +
                '\nanswered ' + fmt_t(serve.t) + ', seen by caller ' + fmt_t(e.t), 'msg response');
        } else {
          svg.appendChild(s('text', { x: nx(e.peer) + 4, y: ty(e.t), fill: '#d64541', 'class': 'label' }, e.outcome + (e.reason && e.reason !== '-' ? ' ' + e.reason : '')));
        }
      });
      box.setAttribute('data-messages', String(count));
      box.appendChild(h('p', { 'class': 'help' }, caption + ' · ' + count + ' messages · ' + nodes.length + ' nodes'));
      box.appendChild(svg);
    }
    function show_trace(i) { var tr = traces[i]; draw([tr], 'trace ' + tr.key); }
    function show_range(a, b) {
      var list = traces.filter(function (tr) { return tr.start >= a && tr.start <= b; }).slice(0, 25);
      draw(list, 'sampled traces starting ' + fmt_t(a) + '–' + fmt_t(b) + (list.length === 25 ? ' (first 25)' : ''));
    }
    select.addEventListener('change', function () { show_trace(+select.value); });
    search.addEventListener('change', function () {
      var q = search.value.trim();
      for (var i = 0; i < traces.length; i++) {
        var tr = traces[i];
        if (tr.key === q || tr.key === 'c:' + q || tr.evs.some(function (e) { return e.corr === q; })) { select.value = i; show_trace(i); return; }
      }
      box.textContent = 'No sampled trace has ' + q + '.';
    });
    show_window.addEventListener('click', function () {
      var a = parse_duration(from.value.trim()), b = parse_duration(to.value.trim());
      if (a === null || b === null || b < a) { box.textContent = 'Give the window as two durations, e.g. 12s and 12.5s.'; return; }
      show_range(a, b);
    });
    listeners.push(function (t) {
      var half = 2 * bucket_ns;
      from.value = fmt_t(Math.max(0, t - half)); to.value = fmt_t(t + half);
      var best = -1;
      traces.forEach(function (tr, i) { if (best < 0 || Math.abs(tr.start - t) < Math.abs(traces[best].start - t)) best = i; });
      if (best >= 0) { select.value = best; show_trace(best); }
    });
    var first = 0;
    for (var i = 0; i < traces.length; i++) if (traces[i].failed) { first = i; break; }
    select.value = first;
    show_trace(first);
  })();

  // The address can say where to look: report.html#t=3.5s sets the cursor there,
  // #open opens every service lane (its instances drawn).
  var wanted = /[#&]t=([^&]+)/.exec(location.hash);
  if (/[#&]open\b/.test(location.hash)) {
    document.querySelectorAll('details.lane').forEach(function (d) { d.open = true; d.dispatchEvent(new Event('toggle')); });
  }
  // The cursor starts at the first failed check, else the first breaker opening.
  var firsts = (D.checks || []).map(function (c) { return c.first_failed_ns !== undefined ? finite(c.first_failed_ns) : parse_duration(c.first_failed); })
    .filter(function (t) { return t !== null && t !== undefined; });
  var opens = transitions.filter(function (x) { return x.to === 'open'; });
  if (wanted && parse_duration(decodeURIComponent(wanted[1])) !== null) set_cursor(parse_duration(decodeURIComponent(wanted[1])));
  else if (firsts.length) set_cursor(Math.min.apply(null, firsts));
  else if (opens.length) set_cursor(opens[0].t);
  else if (faults.length) set_cursor(Math.min.apply(null, faults.map(function (f) { return f.start; })) + bucket_ns / 2);

  document.body.setAttribute('data-render-ms', String(Math.round(performance.now() - started)));
  document.body.setAttribute('data-errors', String(errors.length));
  document.body.setAttribute('data-render', 'ok');
})();
