// The detection engine: pure Go, no proxy-wasm imports, so `go test` runs it natively.
//
// Inputs are normalised before matching: lenient URL decoding repeated up to 3 times
// (so double- and triple-encoding are seen), `+` → space for query strings and forms,
// a few HTML entities (&lt; &#60; &#x3c; …), overlong UTF-8 dots (%c0%ae), backslashes
// as slashes for path checks, NUL bytes dropped, lower case. Every rule sees every
// decoding stage of a value (raw, once decoded, twice …), so a rule hit on any stage counts.
package main

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Target says where a value came from; rules apply to a subset of targets.
type Target uint8

const (
	TPath   Target = 1 << iota // the URL path (decoded)
	TQuery                     // a query parameter name or value
	THeader                    // a request header value (not User-Agent-specific rules)
	TUA                        // the User-Agent header
	TBody                      // a form field, a JSON string/key, or a raw text body
)

const tAll = TPath | TQuery | THeader | TUA | TBody
const tValues = TQuery | THeader | TUA | TBody

// Rule is one detection: an id (reported in x-xgate-waf and logs), its group (toggle),
// the targets it applies to, and a regular expression on lower-cased normalised text.
type Rule struct {
	ID      string
	Group   string
	Targets Target
	Re      *regexp.Regexp
	// Any: the regex can only match text containing one of these literals; a cheap
	// strings.Contains pre-filter that spares the regex on almost all ordinary input.
	Any []string
}

// Groups are the toggles of the plugin configuration ("rules": {"sqli": false, …}).
var Groups = []string{"sqli", "xss", "traversal", "scanner"}

func r(id, group string, targets Target, re string) Rule {
	rl := Rule{ID: id, Group: group, Targets: targets, Re: regexp.MustCompile(re)}
	rl.Any = prefilters[id]
	return rl
}

// prefilters, by rule id (no entry: always run the regex).
var prefilters = map[string][]string{
	"sqli-tautology":           {"or", "and", "xor", "||", "&&"},
	"sqli-union":               {"union"},
	"sqli-stacked":             {";"},
	"sqli-comment":             {"--", "#", "/*"},
	"sqli-timing":              {"sleep", "benchmark", "waitfor", "dbms_pipe"},
	"sqli-probe":               {"information_schema", "@@", "load_file", "outfile", "dumpfile", "xp_cmdshell", "select", "extractvalue", "updatexml", "char"},
	"xss-script":               {"script"},
	"xss-js-uri":               {"script", "data"},
	"xss-event-handler":        {"="},
	"xss-tag":                  {"<", "document", "expression", "srcdoc"},
	"traversal-dotdot":         {".."},
	"traversal-sensitive-file": {"etc", "proc", "win.ini", "boot.ini", "windows"},
	"traversal-nul":            {"\x00"},
	"scanner-path":             {".", "admin", "pma", "phpunit", "boaform", "hnap1", "cgi-bin"},
}

func (rl *Rule) match(s string) bool {
	if len(rl.Any) > 0 {
		found := false
		for _, lit := range rl.Any {
			if strings.Contains(s, lit) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return rl.Re.MatchString(s)
}

// SQL-ish separators: whitespace, inline comments, parentheses, `+` left by decoding.
const sep = `(?:\s|/\*.*?\*/|[()+])+`

// Rules, in evaluation order. Patterns are written against lower-cased input.
var Rules = []Rule{
	// --- SQL injection ---
	// ' or 1=1, ' or 'a'='a, " or ""=", ') or ('x')=('x, 1 or 1=1, ' or true--
	r("sqli-tautology", "sqli", tAll,
		`(?:['"\x60]\)?\s*|\b\d+\s+)(?:or|and|xor|\|\||&&)`+sep+`(?:['"\x60(]*\w*['"\x60)]*\s*(?:=|<>|!=|<=?|>=?|like\b)\s*['"\x60(]*\w*|true\b|false\b|not\b)`),
	// union select, union all select, union/**/select, union(select
	r("sqli-union", "sqli", tAll, `\bunion`+sep+`(?:all`+sep+`|distinct`+sep+`)?select\b`),
	// ; drop table, '; delete from, ; insert into, ; shutdown, ; exec xp_cmdshell
	r("sqli-stacked", "sqli", tAll,
		`;\s*(?:drop`+sep+`(?:table|database|schema|user)\b|delete`+sep+`from\b|insert`+sep+`into\b|truncate`+sep+`(?:table\b|\w+\s*$)|alter`+sep+`(?:table|user)\b|update`+sep+`\w+`+sep+`set\b|exec(?:ute)?`+sep+`(?:xp_|sp_|master\.)|shutdown\b|declare\s+@)`),
	// admin'--, 1'#, ')-- -, '/*, /*!50000select*/, select/**/
	r("sqli-comment", "sqli", tAll,
		`(?:['"\x60]\)*\s*(?:--|#|/\*)|/\*!\d*|\b(?:select|union|from|where|and|or)/\*.*?\*/|/\*.*?\*/(?:select|union|from|where|and|or)\b)`),
	// sleep(5), benchmark(10000000,md5(1)), pg_sleep(5), waitfor delay '0:0:5'
	r("sqli-timing", "sqli", tAll, `\b(?:sleep|pg_sleep)\s*\(\s*\d|\bbenchmark\s*\(\s*\d+\s*,|\bwaitfor\s+delay\s+['"]|\bdbms_pipe\.receive_message\s*\(`),
	// information_schema, @@version, load_file(, into outfile, xp_cmdshell, select … from …
	r("sqli-probe", "sqli", tAll,
		`\binformation_schema\b|@@(?:version|datadir|hostname)\b|\bload_file\s*\(|\binto\s+(?:out|dump)file\b|\bxp_cmdshell\b|\bselect`+sep+`(?:[\w*@,'"]+`+sep+`)*?from`+sep+`(?:information_schema|mysql\.|pg_|sys\.|dual\b|users?\b)|\b(?:extractvalue|updatexml)\s*\(|\bchar\s*\(\s*\d+\s*(?:,\s*\d+\s*)+\)`),

	// --- XSS ---
	r("xss-script", "xss", tAll, `<\s*/?\s*script\b`),
	// javascript:alert(1), vbscript:…, "javascript: the good parts" (a book) is not one
	r("xss-js-uri", "xss", tAll, `\b(?:java|vb|live)script\s*:(?:[^\s]|\s*[^\s(]*[(\x60])|\bdata\s*:\s*text/html\b`),
	// <img src=x onerror=alert(1)>, " onmouseover="…, <svg/onload=…
	r("xss-event-handler", "xss", tValues|TPath,
		`(?:^|[\s"'/;<>\x60])on(?:error|load|click|dblclick|mouse\w+|focus\w*|blur|key\w+|change|submit|input|toggle|begin|end|animation\w+|transition\w+|pointer\w+|wheel|scroll|unload|beforeunload|afterprint|beforeprint|hashchange|message|pageshow|popstate|resize|select|start|drag\w*|drop|copy|cut|paste|auxclick|contextmenu|invalid|search|show|loadstart|readystatechange)\s*=`),
	// <iframe, <svg …>, <object, <embed, <img src=…, <body onload, <meta http-equiv
	r("xss-tag", "xss", tAll,
		`<\s*(?:iframe|frame|frameset|object|embed|applet|svg|math|base|meta\s+http-equiv|link\s+rel|form\s+action|img\s+[^>]*src|body\s+[^>]*on|isindex|marquee|xss)\b|<!\[cdata\[|\bdocument\s*\.\s*(?:cookie|domain|write)\b|\bexpression\s*\(|\bsrcdoc\s*=`),

	// --- Path traversal ---
	// ../, ..\, /.., ..%2f and %2e%2e after decoding, ..;/ (Tomcat)
	r("traversal-dotdot", "traversal", tAll, `(?:^|[/\\=])\.\.(?:[/\\;]|$)|\.\.[/\\]`),
	// /etc/passwd, /etc/shadow, /proc/self/environ, c:\windows\win.ini, boot.ini
	r("traversal-sensitive-file", "traversal", tAll,
		`(?:^|[/\\=])etc[/\\](?:passwd|shadow|group|hosts|issue|sudoers)\b|(?:^|[/\\=])proc[/\\]self[/\\]|\bwin\.ini\b|\bboot\.ini\b|(?:^|[/\\=])windows[/\\]system32\b|\bc:[/\\]windows\b`),
	// NUL bytes (poison-null-byte file extension bypass) in the decoded input
	r("traversal-nul", "traversal", tAll, `\x00`),

	// --- Scanners and probes ---
	r("scanner-ua", "scanner", TUA,
		`\b(?:sqlmap|nikto|nmap|acunetix|wpscan|masscan|nessus|openvas|dirbuster|gobuster|wfuzz|nuclei|zgrab|havij|w3af|netsparker|arachni|commix|whatweb|jorgee|zmeu|fimap|skipfish|paros|webinspect|appscan|feroxbuster|dirb|morfeus|nsauditor|bsqlbf|sqlninja|pangolin|brutus|grabber|webshag|vega/)`),
	r("scanner-path", "scanner", TPath,
		`(?:^|/)\.(?:env|git|svn|hg|bzr|ds_store|htaccess|htpasswd|aws|ssh|dockerenv|npmrc|idea|vscode)(?:[./]|$)|/wp-admin/(?:setup-config|install)\.php|/wp-config\.php|(?:^|/)(?:phpmyadmin\w*|pma|myadmin|mysqladmin|sqladmin|dbadmin|adminer\.php)(?:/|$)|/vendor/phpunit/|/(?:shell|cmd|c99|r57|webshell|wso)\.(?:php|asp|aspx|jsp)\b|\.(?:php|asp|aspx|jsp|config)(?:\.(?:bak|old|orig|save|swp)|~)$|/(?:backup|dump|db|database)\.(?:sql|tar|tgz|tar\.gz)$|/boaform/|/hnap1(?:/|$)|/cgi-bin/(?:php|test-cgi|printenv)|/web\.config$`),
}

// Hit is one rule match: which rule, in which input.
type Hit struct {
	Rule  string
	Where string
}

// Engine holds the enabled rules.
type Engine struct {
	rules []Rule
}

// NewEngine keeps the rules whose group is enabled.
func NewEngine(enabled map[string]bool) *Engine {
	e := &Engine{}
	for _, rl := range Rules {
		if enabled[rl.Group] {
			e.rules = append(e.rules, rl)
		}
	}
	return e
}

// Scanner collects hits for one request; `all` false stops at the first hit.
type Scanner struct {
	e    *Engine
	all  bool
	Hits []Hit
	seen map[string]bool
}

func (e *Engine) NewScanner(all bool) *Scanner {
	return &Scanner{e: e, all: all}
}

// Done reports whether scanning can stop (first hit in block mode).
func (s *Scanner) Done() bool { return !s.all && len(s.Hits) > 0 }

func (s *Scanner) add(id, where string) {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if s.seen[id] {
		return
	}
	s.seen[id] = true
	s.Hits = append(s.Hits, Hit{Rule: id, Where: where})
}

// Check runs the rules for target t on every normalised form of v.
func (s *Scanner) Check(t Target, where, v string, plusIsSpace bool) {
	if s.Done() || v == "" {
		return
	}
	for _, form := range variants(v, plusIsSpace, t == TPath) {
		for i := range s.e.rules {
			rl := &s.e.rules[i]
			if rl.Targets&t == 0 || s.seen[rl.ID] {
				continue
			}
			if rl.match(form) {
				s.add(rl.ID, where)
				if s.Done() {
					return
				}
			}
		}
	}
}

// CheckQuery checks a raw query string: each name and value separately.
func (s *Scanner) CheckQuery(raw string) {
	for _, pair := range strings.Split(raw, "&") {
		if s.Done() {
			return
		}
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		s.Check(TQuery, "query", name, true)
		s.Check(TQuery, "query", value, true)
	}
}

// CheckBody checks a request body by content type: forms field by field, JSON keys and
// string values (raw text when it does not parse), text/* and XML as a whole. Other
// types (multipart, binary) are skipped; the return value says whether it was inspected.
func (s *Scanner) CheckBody(contentType string, body []byte) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch {
	case ct == "application/x-www-form-urlencoded":
		for _, pair := range strings.Split(string(body), "&") {
			name, value, _ := strings.Cut(pair, "=")
			s.Check(TBody, "body", name, true)
			s.Check(TBody, "body", value, true)
		}
		return true
	case ct == "application/json" || strings.HasSuffix(ct, "+json"):
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil {
			s.Check(TBody, "body", string(body), false)
			return true
		}
		s.walkJSON(doc)
		return true
	case strings.HasPrefix(ct, "text/") || ct == "application/xml" || strings.HasSuffix(ct, "+xml") || ct == "":
		s.Check(TBody, "body", string(body), false)
		return true
	}
	return false
}

func (s *Scanner) walkJSON(v any) {
	if s.Done() {
		return
	}
	switch x := v.(type) {
	case string:
		s.Check(TBody, "body", x, false)
	case []any:
		for _, el := range x {
			s.walkJSON(el)
		}
	case map[string]any:
		for k, el := range x {
			s.Check(TBody, "body", k, false)
			s.walkJSON(el)
		}
	}
}

// variants returns the distinct lower-cased normalised forms of v: as given, then after
// each round of URL decoding (at most 3), each with HTML entities decoded.
func variants(v string, plusIsSpace, isPath bool) []string {
	out := make([]string, 0, 4)
	add := func(x string) {
		x = strings.ToLower(x)
		if isPath {
			x = strings.ReplaceAll(x, `\`, "/")
		}
		x = strings.ReplaceAll(x, "\xc0\xae", ".")
		x = strings.ReplaceAll(x, "\xc0\xaf", "/")
		x = htmlEntities(x)
		for _, o := range out {
			if o == x {
				return
			}
		}
		out = append(out, x)
	}
	add(v)
	cur := v
	for i := 0; i < 3; i++ {
		next := urlDecode(cur, plusIsSpace && i == 0)
		if next == cur {
			break
		}
		add(next)
		cur = next
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// urlDecode decodes valid %XX and IIS-style %uXXXX (ASCII only) escapes and keeps
// anything else as it is ("100% cotton" stays), so decoding never fails.
func urlDecode(s string, plusIsSpace bool) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '+' && plusIsSpace {
			b.WriteByte(' ')
			continue
		}
		if c == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok2 := unhex(s[i+2]); ok2 {
					b.WriteByte(h<<4 | l)
					i += 2
					continue
				}
			}
		}
		if c == '%' && i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			var n int
			ok := true
			for _, d := range []byte(s[i+2 : i+6]) {
				x, good := unhex(d)
				if !good {
					ok = false
					break
				}
				n = n<<4 | int(x)
			}
			if ok && n < 0x80 {
				b.WriteByte(byte(n))
				i += 5
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

var entityRe = regexp.MustCompile(`&(?:#0*(?:60|62|34|39|58|40|41)|#x0*(?:3c|3e|22|27|3a|28|29)|lt|gt|quot|apos|colon|lpar|rpar);?`)

var entityMap = map[string]string{
	"60": "<", "62": ">", "34": `"`, "39": "'", "58": ":", "40": "(", "41": ")",
	"3c": "<", "3e": ">", "22": `"`, "27": "'", "3a": ":", "28": "(", "29": ")",
	"lt": "<", "gt": ">", "quot": `"`, "apos": "'", "colon": ":", "lpar": "(", "rpar": ")",
}

// htmlEntities decodes the entities that matter for XSS (< > " ' : ( )), lower-case input.
func htmlEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return entityRe.ReplaceAllStringFunc(s, func(m string) string {
		k := strings.TrimSuffix(strings.TrimPrefix(m, "&"), ";")
		k = strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(k, "#x"), "#"), "0")
		if r, ok := entityMap[k]; ok {
			return r
		}
		return m
	})
}
