package api

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// Field is one JSON member of a params or result struct, as encoding/json
// sees it. The server decodes positional params and checks required members
// with the same list the schema is generated from.
type Field struct {
	// Name is the JSON member name.
	Name string
	// Index is the path for reflect.Value.FieldByIndex (embedded structs
	// are flattened, as encoding/json does).
	Index []int
	Type  reflect.Type
	// Required is set by the struct tag `required:"true"`.
	Required bool
}

// Fields lists the JSON members of struct type t in declaration order:
// exported fields, named by their json tag, without `json:"-"`, with the
// fields of untagged embedded structs promoted.
func Fields(t reflect.Type) []Field {
	var out []Field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" && derefType(ft).Kind() == reflect.Struct {
			for _, inner := range Fields(derefType(ft)) {
				inner.Index = append([]int{i}, inner.Index...)
				out = append(out, inner)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, Field{Name: name, Index: []int{i}, Type: ft, Required: sf.Tag.Get("required") == "true"})
	}
	return out
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[time.Duration]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

// SchemaOf returns the JSON Schema of the JSON encoding/json produces for
// values of type t. A nil type (an untyped nil in the table) is "any".
func SchemaOf(t reflect.Type) Schema {
	if t == nil {
		return Schema{}
	}
	return schemaOf(t, map[reflect.Type]bool{})
}

// schemaOf walks t; seen breaks recursive types, which become "any" at the
// point they recur rather than an endless schema.
func schemaOf(t reflect.Type, seen map[reflect.Type]bool) Schema {
	t = derefType(t)
	switch t {
	case timeType:
		return Schema{"type": "string", "format": "date-time"}
	case durationType:
		return Schema{"type": "integer", "description": "nanoseconds"}
	case rawType:
		return Schema{}
	}
	// A type that encodes itself could produce anything; a text marshaler
	// always produces a string.
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		return Schema{}
	}
	if t.Implements(textType) || reflect.PointerTo(t).Implements(textType) {
		return Schema{"type": "string"}
	}
	if s, ok := kindSchema(t, seen); ok {
		return s
	}
	return Schema{}
}

// kindSchema maps the kinds encoding/json knows to schema types.
func kindSchema(t reflect.Type, seen map[reflect.Type]bool) (Schema, bool) {
	switch t.Kind() {
	case reflect.Bool:
		return Schema{"type": "boolean"}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Schema{"type": "integer"}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return Schema{"type": "integer", "minimum": 0}, true
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}, true
	case reflect.String:
		return Schema{"type": "string"}, true
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return Schema{"type": "string", "contentEncoding": "base64"}, true
		}
		return Schema{"type": "array", "items": schemaOf(t.Elem(), seen)}, true
	case reflect.Map:
		return Schema{"type": "object", "additionalProperties": schemaOf(t.Elem(), seen)}, true
	case reflect.Struct:
		return structSchema(t, seen), true
	}
	return nil, false
}

// structSchema is an object schema with one property per JSON member;
// unknown members are refused because the server decodes params strictly.
func structSchema(t reflect.Type, seen map[reflect.Type]bool) Schema {
	if seen[t] {
		return Schema{}
	}
	seen[t] = true
	defer delete(seen, t)
	props := Schema{}
	required := []string{}
	for _, f := range Fields(t) {
		props[f.Name] = schemaOf(f.Type, seen)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	s := Schema{"type": "object", "properties": props, "additionalProperties": false}
	if t.Name() != "" {
		s["title"] = t.Name()
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}
