// xgate WAF: a proxy-wasm HTTP filter (Go SDK, GOOS=wasip1 reactor) blocking SQL
// injection, XSS, path traversal and scanner probes. See ../README.md.
//
// Per request: the path, each query parameter, the request headers (User-Agent also for
// scanner signatures) are checked when the headers arrive; a form/JSON/text body up to
// max_body_bytes is buffered and checked at end of stream before anything is forwarded.
//
//   - block:  the first hit → local 403, body "Forbidden by xgate WAF (<rule>)\n",
//     header x-xgate-waf: <rule>; counters xgate_waf_hits and xgate_waf_blocked.
//   - detect: the request passes; each distinct rule hit is logged once (warn) and the
//     request counts once in xgate_waf_hits (Envoy prefixes custom Wasm stats:
//     wasmcustom.xgate_waf_hits in /stats).
package main

import (
	"strconv"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() {
	proxywasm.SetPluginContext(func(contextID uint32) types.PluginContext { return &plugin{} })
}

type metrics struct {
	hits, blocked, bodySkipped proxywasm.MetricCounter
	perRule                    map[string]proxywasm.MetricCounter
}

var m *metrics

func defineMetrics() *metrics {
	if m != nil {
		return m
	}
	m = &metrics{
		hits:        proxywasm.DefineCounterMetric("xgate_waf_hits"),
		blocked:     proxywasm.DefineCounterMetric("xgate_waf_blocked"),
		bodySkipped: proxywasm.DefineCounterMetric("xgate_waf_body_skipped"),
		perRule:     map[string]proxywasm.MetricCounter{},
	}
	for _, rl := range Rules {
		m.perRule[rl.ID] = proxywasm.DefineCounterMetric("xgate_waf_rule_hits." + rl.ID)
	}
	return m
}

type plugin struct {
	types.DefaultPluginContext
	cfg    *Parsed
	engine *Engine
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && err != types.ErrorStatusNotFound {
		proxywasm.LogCriticalf("xgate-waf: reading the plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		proxywasm.LogCriticalf("xgate-waf: %v; refusing to start (fail closed)", err)
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	p.engine = NewEngine(cfg.Enabled)
	defineMetrics()
	mode := "detect"
	if cfg.Block {
		mode = "block"
	}
	proxywasm.LogInfof("xgate-waf: started, mode %s, %d rules, body cap %d bytes", mode, len(p.engine.rules), cfg.MaxBodyBytes)
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext {
	return &httpCtx{p: p, scan: p.engine.NewScanner(!p.cfg.Block)}
}

type httpCtx struct {
	types.DefaultHttpContext
	p           *plugin
	scan        *Scanner
	reported    int  // hits already logged/counted
	flagged     bool // counted in xgate_waf_hits
	contentType string
	bodyCheck   bool // buffering the body for inspection
	path        string
}

func (h *httpCtx) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	headers, err := proxywasm.GetHttpRequestHeaders()
	if err != nil {
		proxywasm.LogErrorf("xgate-waf: reading request headers: %v", err)
		return types.ActionContinue
	}
	contentLength := -1
	for _, kv := range headers {
		k, v := kv[0], kv[1]
		switch k {
		case ":path":
			h.path = v
			path, query, _ := strings.Cut(v, "?")
			path, _, _ = strings.Cut(path, "#")
			h.scan.Check(TPath, "path", path, false)
			h.scan.CheckQuery(query)
		case "user-agent":
			h.scan.Check(TUA, "user-agent", v, false)
		case "content-type":
			h.contentType = v
		case "content-length":
			if n, err := strconv.Atoi(v); err == nil {
				contentLength = n
			}
		}
		if k == "" || k[0] == ':' || k == "authorization" || k == "content-length" || k == "user-agent" {
			continue
		}
		h.scan.Check(THeader, "header "+k, v, false)
	}
	if h.report() {
		return types.ActionPause
	}
	if endOfStream || h.p.cfg.MaxBodyBytes == 0 {
		return types.ActionContinue
	}
	if contentLength > h.p.cfg.MaxBodyBytes || !inspectableType(h.contentType) {
		m.bodySkipped.Increment(1)
		return types.ActionContinue
	}
	// Envoy's Wasm filter turns a paused header callback into StopAllIteration (no body
	// callbacks until resumed), so the headers continue and the body is held instead: a
	// blocked body never reaches the upstream (the upstream stream is reset by the 403).
	h.bodyCheck = true
	return types.ActionContinue
}

func (h *httpCtx) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	if !h.bodyCheck {
		return types.ActionContinue
	}
	if bodySize > h.p.cfg.MaxBodyBytes {
		// A chunked body grew past the cap: let it through unchecked.
		h.bodyCheck = false
		m.bodySkipped.Increment(1)
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause // buffer
	}
	h.bodyCheck = false
	body, err := proxywasm.GetHttpRequestBody(0, bodySize)
	if err != nil && err != types.ErrorStatusNotFound {
		proxywasm.LogErrorf("xgate-waf: reading the request body: %v", err)
		return types.ActionContinue
	}
	h.scan.CheckBody(h.contentType, body)
	if h.report() {
		return types.ActionPause
	}
	return types.ActionContinue
}

func inspectableType(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return ct == "" || ct == "application/x-www-form-urlencoded" || ct == "application/json" ||
		strings.HasSuffix(ct, "+json") || strings.HasPrefix(ct, "text/") || ct == "application/xml" || strings.HasSuffix(ct, "+xml")
}

// report logs and counts new hits; in block mode it sends the 403 and returns true.
func (h *httpCtx) report() bool {
	hits := h.scan.Hits[h.reported:]
	if len(hits) == 0 {
		return false
	}
	h.reported = len(h.scan.Hits)
	if !h.flagged {
		h.flagged = true
		m.hits.Increment(1)
	}
	mode := "detect"
	if h.p.cfg.Block {
		mode = "block"
	}
	for _, hit := range hits {
		if c, ok := m.perRule[hit.Rule]; ok {
			c.Increment(1)
		}
		proxywasm.LogWarnf("xgate-waf: %s rule=%s in=%s path=%q", mode, hit.Rule, hit.Where, truncate(h.path, 200))
	}
	if !h.p.cfg.Block {
		return false
	}
	m.blocked.Increment(1)
	rule := hits[0].Rule
	if err := proxywasm.SendHttpResponse(403, [][2]string{
		{"content-type", "text/plain"},
		{"x-xgate-waf", rule},
	}, []byte("Forbidden by xgate WAF ("+rule+")\n"), -1); err != nil {
		proxywasm.LogErrorf("xgate-waf: sending the 403: %v", err)
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
