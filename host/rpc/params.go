package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// paramSpec decodes the params of one method. It is built once per method
// from the params struct, so a call does no reflection over struct tags.
type paramSpec struct {
	typ    reflect.Type
	fields []api.Field
	byName map[string]int
	// want describes each field's JSON type for error messages ("an
	// integer"), so a bad value is named without echoing it.
	want []string
	// zero is the params value when none are given and no member is
	// required: the common case of health, stats and the lists.
	zero     any
	required bool
}

func newParamSpec(t reflect.Type) (*paramSpec, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("params type %s is not a struct", t)
	}
	p := &paramSpec{typ: t, fields: api.Fields(t), byName: map[string]int{}, zero: reflect.Zero(t).Interface()}
	for i, f := range p.fields {
		p.byName[f.Name] = i
		p.want = append(p.want, describe(api.SchemaOf(f.Type)))
		p.required = p.required || f.Required
	}
	return p, nil
}

// describe names a schema's type with its article, for "must be ...".
func describe(s api.Schema) string {
	switch s["type"] {
	case "integer":
		return "an integer"
	case "array":
		return "an array of " + plural(describe(s["items"].(api.Schema)))
	case "object":
		return "an object"
	case nil:
		return "a JSON value"
	default:
		return fmt.Sprintf("a %s", s["type"])
	}
}

func plural(s string) string {
	for _, a := range []string{"an ", "a "} {
		if len(s) > len(a) && s[:len(a)] == a {
			return s[len(a):] + "s"
		}
	}
	return s
}

// decode turns raw params (absent, an object or an array) into a value of
// the params type. Errors are core.Invalid naming the field, so the wire
// error is -32602 with data.field set.
func (p *paramSpec) decode(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if err := p.checkRequired(func(int) bool { return false }); err != nil {
			return nil, err
		}
		return p.zero, nil
	}
	v := reflect.New(p.typ).Elem()
	var err error
	switch raw[0] {
	case '{':
		err = p.decodeObject(raw, v)
	case '[':
		err = p.decodeArray(raw, v)
	default:
		err = core.InvalidField("params", "must be an object or an array")
	}
	if err != nil {
		return nil, err
	}
	return v.Interface(), nil
}

func (p *paramSpec) decodeObject(raw json.RawMessage, v reflect.Value) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return core.InvalidField("params", "must be an object or an array")
	}
	var unknown []string
	for name := range members {
		if _, ok := p.byName[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown) // the same member is named on every try
		return core.InvalidField(clip(unknown[0]), "is not a parameter of this method")
	}
	if err := p.checkRequired(func(i int) bool { return present(members[p.fields[i].Name]) }); err != nil {
		return err
	}
	for name, m := range members {
		if err := p.set(v, p.byName[name], m); err != nil {
			return err
		}
	}
	return nil
}

func (p *paramSpec) decodeArray(raw json.RawMessage, v reflect.Value) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return core.InvalidField("params", "must be an object or an array")
	}
	if len(items) > len(p.fields) {
		return core.InvalidField("params", "%d positional params given, the method takes %d", len(items), len(p.fields))
	}
	if err := p.checkRequired(func(i int) bool { return i < len(items) && present(items[i]) }); err != nil {
		return err
	}
	for i, m := range items {
		if err := p.set(v, i, m); err != nil {
			return err
		}
	}
	return nil
}

func present(m json.RawMessage) bool { return len(m) > 0 && string(m) != "null" }

// checkRequired reports the first required field that has is false for.
func (p *paramSpec) checkRequired(has func(i int) bool) error {
	if !p.required {
		return nil
	}
	for i, f := range p.fields {
		if f.Required && !has(i) {
			return core.InvalidField(f.Name, "is required")
		}
	}
	return nil
}

// set decodes one member into field i, strictly: unknown members of nested
// objects are refused too. The error never quotes the value, which may be a
// secret.
func (p *paramSpec) set(v reflect.Value, i int, m json.RawMessage) error {
	f := p.fields[i]
	dec := json.NewDecoder(bytes.NewReader(m))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.FieldByIndex(f.Index).Addr().Interface()); err != nil {
		return core.InvalidField(f.Name, "must be %s", p.want[i])
	}
	return nil
}

// clip shortens caller-supplied text that is echoed in an error, so a
// hostile request cannot make the answer or the audit log huge.
func clip(s string) string {
	const maxEcho = 64
	if len(s) <= maxEcho {
		return s
	}
	return s[:maxEcho] + "..."
}
