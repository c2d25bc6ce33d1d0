package rpc

import "encoding/json"

// This file splits a request object into its members without building a
// map: on the health hot path a map decode was most of the JSON-RPC
// layer's cost. The input is always valid JSON (handle checks it with
// json.Valid first); the scanner still stops at the end of the input
// rather than trust that.

// eachMember calls fn with every member of the JSON object obj (which
// starts with '{'): the key as written between its quotes, whether the key
// holds an escape, and the raw value.
func eachMember(obj []byte, fn func(key []byte, escaped bool, value []byte)) {
	i := 1
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return // '}' or the end
		}
		kEnd, escaped := stringEnd(obj, i)
		key := obj[i+1 : max(i+1, kEnd-1)]
		i = skipSpace(obj, kEnd) + 1 // past ':'
		i = skipSpace(obj, i)
		if i >= len(obj) {
			return
		}
		vEnd := valueEnd(obj, i)
		fn(key, escaped, obj[i:vEnd])
		i = skipSpace(obj, vEnd)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the closing quote of the string that
// starts at b[i], and whether it holds a backslash escape.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return len(b), escaped
}

// valueEnd returns the index after the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i // a number, true, false or null
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// keyIs reports whether a member key equals name; an escaped key is
// decoded first, so "\u006dethod" is "method" as the specification's JSON
// says.
func keyIs(key []byte, escaped bool, name string) bool {
	if !escaped {
		return string(key) == name
	}
	var s string
	quoted := make([]byte, 0, len(key)+2)
	quoted = append(append(append(quoted, '"'), key...), '"')
	return json.Unmarshal(quoted, &s) == nil && s == name
}

// stringValue decodes a JSON string value; ok is false for any other
// kind of value.
func stringValue(v []byte) (s string, ok bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' {
			return s, json.Unmarshal(v, &s) == nil
		}
	}
	return string(inner), true
}
