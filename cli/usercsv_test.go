package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestParseUsersCSVGood: the shapes a real file takes — every column,
// some in another order, a BOM from a spreadsheet, comments, quoted
// fields, ";" lists — all come out as the params the host expects.
func TestParseUsersCSVGood(t *testing.T) {
	for _, tc := range []struct {
		name, csv, want string
	}{
		{"all columns",
			"name,uid,quota,groups,shell,ssh_keys,forge_token\n" +
				"alice,2001,20G,devs;ops,/bin/zsh,\"" + keyAlice + ";" + keyBob + "\",tok-a\n" +
				"bob,,,,,,\n",
			`[{"name":"alice","uid":2001,"ssh_keys":["` + keyAlice + `","` + keyBob + `"],"forge_token":"tok-a","quota":"20G","groups":["devs","ops"],"shell":"/bin/zsh"},{"name":"bob"}]`},
		{"some columns in another order, BOM, comments, spaces",
			"\ufeffForge_Token, name ,quota\n# a comment\ntok-c, carol , 1.5T\n\n  tok-d,dave,500MiB\n",
			`[{"name":"carol","forge_token":"tok-c","quota":"1.5T"},{"name":"dave","forge_token":"tok-d","quota":"500MiB"}]`},
		{"name only, CRLF", "name\r\nerin\r\nfrank\r\n", `[{"name":"erin"},{"name":"frank"}]`},
		{"empty list items dropped", "name,groups\ngina, devs ;; ops;\n", `[{"name":"gina","groups":["devs","ops"]}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, err := parseUsersCSV(strings.NewReader(tc.csv))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(users)
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestParseUsersCSVBad: every problem is found before any call, named by
// line, all of them at once; a token is never quoted.
func TestParseUsersCSVBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		csv  string
		want []string
	}{
		{"empty file", "", []string{"the file is empty; the first line must be the header name,uid,quota,groups,shell,ssh_keys,forge_token"}},
		{"header only", "name,uid\n", []string{"no users: the file has a header and nothing else"}},
		{"unknown column", "name,forge-token\nalice,x\n", []string{`line 1: unknown column "forge-token"; the columns are name,uid`}},
		{"semicolons", "name;uid\nalice;1\n", []string{`line 1: unknown column "name;uid"`, `fields are separated by ",", lists inside a field by ";"`}},
		{"column twice", "name,uid,name\n", []string{"line 1: column name appears twice"}},
		{"no name column", "uid,quota\n1,1G\n", []string{"line 1: the header has no name column"}},
		{"many problems at once",
			"name,uid,quota,shell,ssh_keys,forge_token\n" +
				"alice,abc,20G,/bin/bash,,\n" +
				",2002,,,,\n" +
				"carol,0,-1G,bash,not-a-key,\n" +
				"alice,2004,,,,\n" +
				"dave,2005,1G\n" +
				"erin,,,,," + "\"" + secretToken + " and more\"\n",
			[]string{
				"9 problems; nothing was created:",
				`line 2: uid: "abc" is not a positive number`,
				"line 3: name: is empty",
				`line 4: uid: "0" is not a positive number`,
				`line 4: quota: "-1G" is not a size like 500M or 20G`,
				`line 4: shell: "bash" is not an absolute path`,
				"line 4: ssh_keys: key 1 is not a public key",
				"line 5: name alice is also on line 2",
				"line 6: 3 fields, the header has 6",
				"line 7: forge_token: the token must be one word",
			}},
		{"broken quote stops", "name,uid\n\"alice,1\nbob,2\n", []string{"line 2: extraneous or missing \" in quoted-field"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseUsersCSV(strings.NewReader(tc.csv))
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Fatalf("token quoted: %v", err)
			}
		})
	}
}

// TestParseUsersCSVStopsAtTwenty: a file broken on every line is reported
// by its first screenful.
func TestParseUsersCSVStopsAtTwenty(t *testing.T) {
	_, err := parseUsersCSV(strings.NewReader("name,uid\n" + strings.Repeat("a,1,x\n", 100)))
	if err == nil || strings.Count(err.Error(), "\n  line ") != maxCSVProblems || !strings.Contains(err.Error(), "(stopped after 20 problems)") {
		t.Fatalf("%v", err)
	}
}
