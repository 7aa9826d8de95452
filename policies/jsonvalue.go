package policies

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// maxJSONDepth bounds nesting as encoding/json does.
const maxJSONDepth = 10000

// ParseJSONObject reads one JSON object straight into an AST value: half
// the cost of encoding/json into maps followed by ast.InterfaceToValue, and
// what the webhook does with every object it receives. Numbers stay as
// written (an int64 does not pass through float64); of duplicate keys the
// last wins, as with encoding/json.
func ParseJSONObject(data []byte) (ast.Object, error) {
	p := jsonParser{data: data, text: string(data)}
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return nil, p.errorf("want a JSON object")
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.space(); p.pos < len(p.data) {
		return nil, p.errorf("unexpected data after the object")
	}
	return v.(ast.Object), nil
}

// Most of what parsing costs is allocating: strings are sliced from one
// copy of the input (text), and terms are allocated a slab at a time.
type jsonParser struct {
	data  []byte
	text  string // data, as one string that values slice
	pos   int
	terms []ast.Term
}

// term returns a new term of v from the current slab.
func (p *jsonParser) term(v ast.Value) *ast.Term {
	if len(p.terms) == 0 {
		p.terms = make([]ast.Term, 64)
	}
	t := &p.terms[0]
	p.terms = p.terms[1:]
	t.Value = v
	return t
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("parsing JSON at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (ast.Value, error) {
	if depth > maxJSONDepth {
		return nil, p.errorf("nested deeper than %d levels", maxJSONDepth)
	}
	p.space()
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return ast.String(s), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, lit := range []struct {
		text  string
		value ast.Value
	}{{"true", ast.Boolean(true)}, {"false", ast.Boolean(false)}, {"null", ast.Null{}}} {
		if len(p.data)-p.pos >= len(lit.text) && string(p.data[p.pos:p.pos+len(lit.text)]) == lit.text {
			p.pos += len(lit.text)
			return lit.value, nil
		}
	}
	return nil, p.errorf("invalid character %q looking for a value", p.data[p.pos])
}

func (p *jsonParser) object(depth int) (ast.Value, error) {
	p.pos++ // {
	obj := ast.NewObjectWithCapacity(8)
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return obj, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("want a string key")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if p.space(); p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("want ':' after a key")
		}
		p.pos++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		obj.Insert(ast.InternedTerm(key), p.term(v))
		if done, err := p.next('}'); done || err != nil {
			return obj, err
		}
	}
}

func (p *jsonParser) array(depth int) (ast.Value, error) {
	p.pos++ // [
	var terms []*ast.Term
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return ast.NewArray(), nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		terms = append(terms, p.term(v))
		if done, err := p.next(']'); done || err != nil {
			return ast.NewArray(terms...), err
		}
	}
}

// next consumes a ',' (false) or the closing byte (true).
func (p *jsonParser) next(closing byte) (bool, error) {
	p.space()
	if p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ',':
			p.pos++
			return false, nil
		case closing:
			p.pos++
			return true, nil
		}
	}
	return true, p.errorf("want ',' or %q", closing)
}

// str reads a string. Strings without escapes (nearly all) are sliced;
// the rest go through encoding/json, so both read the same text.
func (p *jsonParser) str() (string, error) {
	start := p.pos
	p.pos++ // "
	plain := true
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if plain && utf8.Valid(raw) {
				return p.text[start+1 : p.pos-1], nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", fmt.Errorf("parsing JSON at offset %d: %w", start, err)
			}
			return s, nil
		case c == '\\':
			plain = false
			p.pos += 2
		case c < 0x20:
			plain = false
			p.pos++
		default:
			p.pos++
		}
	}
	return "", p.errorf("unterminated string")
}

// number reads a number as written, checking JSON's grammar.
func (p *jsonParser) number() (ast.Value, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	intStart := p.pos
	if n := digits(); n == 0 || (n > 1 && p.data[intStart] == '0') {
		return nil, p.errorf("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	// OPA refuses exponents whose big.Float takes seconds to print
	// (golang/go#11068); so does this, as its own JSON decoding does.
	n, err := ast.NumberChecked(p.text[start:p.pos])
	if err != nil {
		p.pos = start
		return nil, p.errorf("%v", err)
	}
	return n, nil
}
