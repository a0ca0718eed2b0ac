package main

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Config is the plugin configuration (the Wasm filter's `configuration`, a JSON string):
//
//	{"mode": "block" | "detect",
//	 "rules": {"sqli": true, "xss": true, "traversal": true, "scanner": true},
//	 "max_body_bytes": 16384}
//
// An empty configuration means {"mode": "block"} with every group on. Anything else
// that is not exactly this shape (unknown mode, unknown key, unknown group, wrong type,
// max_body_bytes out of 0…1 MiB) is refused: OnPluginStart fails and Envoy rejects the
// filter (fail closed).
type Config struct {
	Mode         string          `json:"mode"`
	Rules        map[string]bool `json:"rules"`
	MaxBodyBytes *int            `json:"max_body_bytes"`
}

const defaultMaxBody = 16 * 1024
const maxMaxBody = 1024 * 1024

// Parsed is a validated configuration.
type Parsed struct {
	Block        bool
	Enabled      map[string]bool
	MaxBodyBytes int
}

func ParseConfig(data []byte) (*Parsed, error) {
	p := &Parsed{Block: true, Enabled: map[string]bool{}, MaxBodyBytes: defaultMaxBody}
	for _, g := range Groups {
		p.Enabled[g] = true
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return p, nil
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("invalid configuration: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid configuration: trailing data after the JSON object")
	}
	switch c.Mode {
	case "block":
		p.Block = true
	case "detect":
		p.Block = false
	default:
		return nil, fmt.Errorf("invalid configuration: mode %q is not \"block\" or \"detect\"", c.Mode)
	}
	for g, on := range c.Rules {
		if _, ok := p.Enabled[g]; !ok {
			return nil, fmt.Errorf("invalid configuration: unknown rule group %q (known: sqli, xss, traversal, scanner)", g)
		}
		p.Enabled[g] = on
	}
	if c.MaxBodyBytes != nil {
		if *c.MaxBodyBytes < 0 || *c.MaxBodyBytes > maxMaxBody {
			return nil, fmt.Errorf("invalid configuration: max_body_bytes %d not in 0…%d", *c.MaxBodyBytes, maxMaxBody)
		}
		p.MaxBodyBytes = *c.MaxBodyBytes
	}
	return p, nil
}
