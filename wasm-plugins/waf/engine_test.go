package main

import "testing"

func typicalScan(e *Engine) *Scanner {
	s := e.NewScanner(false)
	s.Check(TPath, "path", "/api/v1/users", false)
	s.CheckQuery("limit=20&offset=40&q=o%27brien")
	s.Check(TUA, "user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0", false)
	s.Check(THeader, "header accept", "application/json", false)
	s.Check(THeader, "header host", "127.0.0.1:8080", false)
	return s
}

func BenchmarkTypicalRequest(b *testing.B) {
	cfg, _ := ParseConfig(nil)
	e := NewEngine(cfg.Enabled)
	for i := 0; i < b.N; i++ {
		typicalScan(e)
	}
}

func TestConfig(t *testing.T) {
	for _, bad := range []string{`{"mode":"monitor"}`, `{"mode":"block","paranoia":4}`, `{"mode":"block","rules":{"rce":true}}`, `{"mode":"block","max_body_bytes":-1}`, `{"mode":"block","max_body_bytes":2000000}`, `{"mode":"block"} {}`, `[]`, `{"mode":1}`} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	for _, good := range []string{``, `{"mode":"detect"}`, `{"mode":"block","rules":{"scanner":false},"max_body_bytes":0}`} {
		if _, err := ParseConfig([]byte(good)); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
}
