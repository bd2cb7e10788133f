package e2e_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// This file reproduces acd_cli's metadata calls (acdcli/api/metadata.py,
// content.py, trash.py, account.py of acd_cli 0.3.2) with raw HTTP and
// checks the exact status codes it accepts: acd_cli is Python and cannot
// run here.

// parseChanges checks the framing of a changes body the way a client that
// splits the body on newlines and parses every part reads it (as ACD sent
// it: each change set ends with '\n', {"end":true} has no newline after it,
// so there is no empty last part), and returns the change sets and whether
// the stream ended with {"end":true}.
func parseChanges(t *testing.T, raw []byte) ([]acd.ChangeSet, bool) {
	t.Helper()
	if len(raw) == 0 {
		t.Errorf("empty changes body")
	}
	var sets []acd.ChangeSet
	ended := false
	for i, line := range bytes.Split(raw, []byte("\n")) {
		if len(line) == 0 && i > 0 && !ended {
			// An empty last part is a stream cut after a change set (maxNodes).
			continue
		}
		if ended {
			t.Errorf("line %d after the end line: %q", i, line)
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil {
			t.Fatalf("changes line %d does not parse alone: %v: %q", i, err, line)
		}
		if _, ok := obj["end"]; ok {
			if string(line) != `{"end":true}` {
				t.Errorf("end line = %q, want {\"end\":true}", line)
			}
			ended = true
			continue
		}
		for _, k := range []string{"checkpoint", "nodes", "reset", "statusCode"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("changes line %d lacks %q: %q", i, k, line)
			}
		}
		var cs acd.ChangeSet
		if err := json.Unmarshal(line, &cs); err != nil {
			t.Fatalf("changes line %d: %v", i, err)
		}
		if cs.StatusCode != http.StatusOK || cs.Checkpoint == "" || cs.Nodes == nil {
			t.Errorf("changes line %d: statusCode %d checkpoint %q nodes %v", i, cs.StatusCode, cs.Checkpoint, cs.Nodes)
		}
		sets = append(sets, cs)
	}
	return sets, ended
}

func tail(b []byte) []byte {
	if len(b) > 80 {
		return b[len(b)-80:]
	}
	return b
}

// changes POSTs body to changes without a Content-Type, as acd_cli does
// (data=json.dumps(body)), and parses the stream.
func (c *acdc) changes(body string) ([]acd.ChangeSet, bool) {
	c.t.Helper()
	code, raw := c.api.do("POST", "/drive/v1/changes", body, nil)
	if code != http.StatusOK {
		c.t.Fatalf("POST changes %s = %d %s", body, code, raw)
	}
	return parseChanges(c.t, raw)
}

// changedIDs flattens the node ids of sets, in order.
func changedIDs(sets []acd.ChangeSet) []string {
	var ids []string
	for _, cs := range sets {
		for _, n := range cs.Nodes {
			ids = append(ids, n.ID)
		}
	}
	return ids
}

// changedStatus maps node id to status in sets.
func changedStatus(sets []acd.ChangeSet) map[string]string {
	m := map[string]string{}
	for _, cs := range sets {
		for _, n := range cs.Nodes {
			m[n.ID] = n.Status
		}
	}
	return m
}

// call makes a JSON call and checks its exact status, as acd_cli's
// BackOffRequest callers do; it returns the decoded node when the reply
// is one.
func (c *acdc) call(method, path string, body any, want int) acd.Node {
	c.t.Helper()
	code, raw := c.api.do(method, path, body, nil)
	if code != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, code, raw, want)
	}
	var n acd.Node
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &n); err != nil {
			c.t.Fatalf("%s %s: reply %q is not JSON: %v", method, path, raw, err)
		}
	}
	return n
}

func TestACDCLIStatusCodes(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newACDC(t, s, "codes")

	// create_folder: 201, with and without parents.
	a := c.mkdir("a", c.root)
	top := c.mkdir("top")
	if !slices.Equal(top.Parents, []string{c.root}) {
		t.Errorf("folder created without parents has parents %v, want the root", top.Parents)
	}
	if code, raw := c.api.do("POST", "/drive/v1/nodes", `{"kind": "FOLDER", "name": "TOP"}`, nil); code != http.StatusConflict {
		t.Errorf("duplicate folder = %d %s, want 409", code, raw)
	}
	b := c.mkdir("b", c.root)

	// Upload 201, overwrite 200 (clear_file: filename ' ').
	f := c.putFile("f.txt", a.ID, []byte("0123456789"))
	body := uploadBody(testBoundary, "", " ", "application/octet-stream", nil, "")
	code, raw := c.send("PUT", "/cdproxy/nodes/"+f.ID+"/content", mpType(testBoundary), body, false)
	if code != http.StatusOK {
		t.Fatalf("clear_file = %d %s, want 200", code, raw)
	}
	body = uploadBody(testBoundary, "", "f.txt", "text/plain", []byte("0123456789"), "")
	if code, raw = c.send("PUT", "/cdproxy/nodes/"+f.ID+"/content?suppress=deduplication", mpType(testBoundary), body, false); code != http.StatusOK {
		t.Fatalf("overwrite_file = %d %s, want 200", code, raw)
	}

	// PATCH: rename_node and move_node, 200.
	v := c.mustNode(f.ID).Version
	n := c.call("PATCH", "/drive/v1/nodes/"+f.ID, `{"name": "g.txt"}`, http.StatusOK)
	if n.Name != "g.txt" || n.Version <= v {
		t.Errorf("rename: %+v", n)
	}
	n = c.call("PATCH", "/drive/v1/nodes/"+f.ID, `{"parents": ["`+b.ID+`"]}`, http.StatusOK)
	if !slices.Equal(n.Parents, []string{b.ID}) {
		t.Errorf("move_node: parents %v, want [%s]", n.Parents, b.ID)
	}
	if names := c.childNames(a.ID); len(names) != 0 {
		t.Errorf("a still lists %v after move_node", names)
	}
	if names := c.childNames(b.ID); !slices.Equal(names, []string{"g.txt"}) {
		t.Errorf("b lists %v after move_node", names)
	}
	// move_node of a folder.
	n = c.call("PATCH", "/drive/v1/nodes/"+top.ID, `{"parents": ["`+a.ID+`"]}`, http.StatusOK)
	if !slices.Equal(n.Parents, []string{a.ID}) {
		t.Errorf("move_node folder: parents %v", n.Parents)
	}
	// set_available on an AVAILABLE node is harmless.
	c.call("PATCH", "/drive/v1/nodes/"+f.ID, `{"status": "AVAILABLE"}`, http.StatusOK)

	// Trash and restore: 200.
	n = c.call("PUT", "/drive/v1/trash/"+f.ID, nil, http.StatusOK)
	if n.Status != "TRASH" {
		t.Errorf("trash: status %s", n.Status)
	}
	var trash acd.NodeList
	c.api.do("GET", "/drive/v1/trash", nil, &trash)
	if trash.Count != 1 || trash.Data[0].ID != f.ID {
		t.Errorf("trash list = %+v", trash)
	}
	n = c.call("POST", "/drive/v1/trash/"+f.ID+"/restore", nil, http.StatusOK)
	if n.Status != "AVAILABLE" || !slices.Equal(n.Parents, []string{b.ID}) {
		t.Errorf("restore: %+v", n)
	}

	// add_child 200, remove_child 200 (not 202).
	n = c.call("PUT", "/drive/v1/nodes/"+a.ID+"/children/"+f.ID, nil, http.StatusOK)
	if n.ID != f.ID || !slices.Contains(n.Parents, a.ID) || !slices.Contains(n.Parents, b.ID) {
		t.Errorf("add_child: %+v", n)
	}
	n = c.call("DELETE", "/drive/v1/nodes/"+b.ID+"/children/"+f.ID, nil, http.StatusOK)
	if n.ID != f.ID || !slices.Equal(n.Parents, []string{a.ID}) {
		t.Errorf("remove_child: %+v", n)
	}

	// Move: POST nodes/{new}/children {"fromParent","childId"}, 200.
	n = c.call("POST", "/drive/v1/nodes/"+b.ID+"/children", `{"fromParent": "`+a.ID+`", "childId": "`+f.ID+`"}`, http.StatusOK)
	if n.ID != f.ID || !slices.Equal(n.Parents, []string{b.ID}) {
		t.Errorf("move: %+v", n)
	}

	// get_metadata with tempLink, list_children, list with filters: 200.
	n = c.call("GET", "/drive/v1/nodes/"+f.ID+"?tempLink=true&asset=NONE", nil, http.StatusOK)
	if n.TempLink == "" {
		t.Error("get_metadata: no tempLink")
	}
	for _, q := range []string{"/drive/v1/nodes?filters=kind:FILE", "/drive/v1/nodes?filters=kind:FOLDER",
		"/drive/v1/nodes?filters=status:TRASH%20AND%20kind:FILE", "/drive/v1/nodes/" + b.ID + "/children?filters=kind:FOLDER"} {
		var list acd.NodeList
		code, raw := c.api.do("GET", q, nil, &list)
		if code != http.StatusOK || !bytes.Contains(raw, []byte(`"count"`)) || !bytes.Contains(raw, []byte(`"data"`)) || bytes.Contains(raw, []byte("nextToken")) {
			t.Errorf("GET %s = %d %s", q, code, raw)
		}
	}

	// Ranged downloads: acd_cli always sends Range and accepts only 206.
	path := "/cdproxy/nodes/" + f.ID + "/content"
	resp, got := c.get("GET", path, map[string]string{"Range": "bytes=0-524287999"})
	if resp.StatusCode != http.StatusPartialContent || string(got) != "0123456789" ||
		resp.Header.Get("Content-Range") != "bytes 0-9/10" || resp.Header.Get("Content-Length") != "10" {
		t.Errorf("bytes=0-524287999 = %d %q Content-Range %q", resp.StatusCode, got, resp.Header.Get("Content-Range"))
	}
	resp, got = c.get("GET", path, map[string]string{"Range": "bytes=3-5"})
	if resp.StatusCode != http.StatusPartialContent || string(got) != "345" || resp.Header.Get("Content-Range") != "bytes 3-5/10" {
		t.Errorf("bytes=3-5 = %d %q %q", resp.StatusCode, got, resp.Header.Get("Content-Range"))
	}
	resp, got = c.get("GET", path, map[string]string{"Range": "bytes=9-9"})
	if resp.StatusCode != http.StatusPartialContent || string(got) != "9" {
		t.Errorf("bytes=9-9 = %d %q", resp.StatusCode, got)
	}
	for _, r := range []string{"bytes=10-524287999", "bytes=10-", "bytes=11-20"} {
		resp, _ = c.get("GET", path, map[string]string{"Range": r})
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("%s = %d, want 416", r, resp.StatusCode)
		}
		if cr := resp.Header.Get("Content-Range"); cr != "bytes */10" {
			t.Errorf("%s: Content-Range %q, want bytes */10", r, cr)
		}
	}
	// chunked_download of unknown length (cat): 4-byte chunks until 416.
	var all []byte
	for start := 0; ; start += 4 {
		resp, got := c.get("GET", path, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", start, start+3)})
		if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			break
		}
		if resp.StatusCode != http.StatusPartialContent || start > 100 {
			t.Fatalf("chunk at %d = %d", start, resp.StatusCode)
		}
		all = append(all, got...)
	}
	if string(all) != "0123456789" {
		t.Errorf("chunked download = %q", all)
	}
	// An empty file: every range is past the end.
	e := c.putFile("empty", c.root, nil)
	if resp, _ := c.get("GET", "/cdproxy/nodes/"+e.ID+"/content", map[string]string{"Range": "bytes=0-524287999"}); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range of an empty file = %d, want 416", resp.StatusCode)
	}

	// Quota and usage: 200.
	c.quota()
	c.usage()
	var ep acd.Endpoint
	if code, raw := c.api.do("GET", "/drive/v1/account/endpoint", nil, &ep); code != http.StatusOK ||
		ep.MetadataURL != s.MetadataURL() || ep.ContentURL != s.ContentURL() {
		t.Errorf("endpoint = %d %s", code, raw)
	}
}

// appID finds the calling app's id as acd_cli does: upload a throw-away
// file and read its createdBy.
func (c *acdc) appID() string {
	c.t.Helper()
	f := c.putFile("acd_cli_owner_probe", c.root, []byte("probe"))
	if f.CreatedBy == "" || f.CreatedBy == "CloudDriveFiles" {
		c.t.Fatalf("createdBy of an uploaded file = %q", f.CreatedBy)
	}
	if got := c.mustNode(f.ID).CreatedBy; got != f.CreatedBy {
		c.t.Errorf("createdBy changed from %q to %q", f.CreatedBy, got)
	}
	if d := c.mkdir("owner probe dir"); d.CreatedBy != f.CreatedBy {
		c.t.Errorf("folder createdBy %q, file createdBy %q", d.CreatedBy, f.CreatedBy)
	}
	return f.CreatedBy
}

func TestACDCLIProperties(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newACDC(t, s, "props")
	owner := c.appID()
	f := c.putFile("p.txt", c.root, []byte("properties"))
	base := "/drive/v1/nodes/" + f.ID + "/properties/"

	// An empty map is {"data":{}}, never null.
	code, raw := c.api.do("GET", base+owner, nil, nil)
	if code != http.StatusOK || strings.ReplaceAll(strings.TrimSpace(string(raw)), " ", "") != `{"data":{}}` {
		t.Errorf("GET properties of a bare node = %d %s, want 200 {\"data\":{}}", code, raw)
	}

	var p acd.Property
	code, raw = c.api.do("PUT", base+owner+"/color", `{"value": "blue"}`, &p)
	if code != http.StatusCreated || p.Key != "color" || p.Value != "blue" || !strings.HasSuffix(p.Location, "/nodes/"+f.ID+"/properties/"+owner+"/color") {
		t.Fatalf("PUT property = %d %s, want 201 {key,value,location}", code, raw)
	}
	for _, k := range []string{`"key"`, `"value"`, `"location"`} {
		if !strings.Contains(string(raw), k) {
			t.Errorf("PUT reply lacks %s: %s", k, raw)
		}
	}
	p = acd.Property{}
	code, raw = c.api.do("GET", base+owner+"/color", nil, &p)
	if code != http.StatusOK || p.Key != "color" || p.Value != "blue" {
		t.Errorf("GET property = %d %s", code, raw)
	}
	var props acd.Properties
	code, raw = c.api.do("GET", base+owner, nil, &props)
	if code != http.StatusOK || len(props.Data) != 1 || props.Data["color"] != "blue" {
		t.Errorf("GET properties = %d %s", code, raw)
	}
	// Overwriting a key is a PUT too.
	if code, raw := c.api.do("PUT", base+owner+"/color", `{"value": "red"}`, nil); code != http.StatusCreated {
		t.Errorf("PUT existing key = %d %s, want 201", code, raw)
	}
	if code, raw := c.api.do("DELETE", base+owner+"/color", nil, nil); code != http.StatusNoContent || len(raw) != 0 {
		t.Errorf("DELETE property = %d %q, want 204 with no body", code, raw)
	}
	if code, _ := c.api.do("GET", base+owner+"/color", nil, nil); code != http.StatusNotFound {
		t.Errorf("GET deleted property = %d, want 404", code)
	}
	code, raw = c.api.do("GET", base+owner, nil, nil)
	if code != http.StatusOK || strings.ReplaceAll(strings.TrimSpace(string(raw)), " ", "") != `{"data":{}}` {
		t.Errorf("GET properties after delete = %d %s", code, raw)
	}

	// Ten keys per owner.
	for i := range 10 {
		if code, raw := c.api.do("PUT", fmt.Sprintf("%s%s/k%d", base, owner, i), `{"value": "v"}`, nil); code != http.StatusCreated {
			t.Fatalf("PUT key %d = %d %s", i, code, raw)
		}
	}
	if code, raw := c.api.do("PUT", base+owner+"/k10", `{"value": "v"}`, nil); code != http.StatusBadRequest {
		t.Errorf("11th key = %d %s, want 400", code, raw)
	}
	if code, raw := c.api.do("PUT", base+owner+"/k3", `{"value": "updated"}`, nil); code != http.StatusCreated {
		t.Errorf("updating a key at the limit = %d %s, want 201", code, raw)
	}
	props = acd.Properties{}
	c.api.do("GET", base+owner, nil, &props)
	if len(props.Data) != 10 || props.Data["k3"] != "updated" {
		t.Errorf("properties at the limit = %v", props.Data)
	}
	c.call("DELETE", base+owner+"/k0", nil, http.StatusNoContent)
	if code, raw := c.api.do("PUT", base+owner+"/k10", `{"value": "v"}`, nil); code != http.StatusCreated {
		t.Errorf("10th key after a delete = %d %s, want 201", code, raw)
	}

	// Values: at most 500 characters, not bytes.
	g := c.putFile("values.txt", c.root, []byte("values"))
	gbase := "/drive/v1/nodes/" + g.ID + "/properties/" + owner
	long, _ := json.Marshal(acd.PropertyValue{Value: strings.Repeat("x", 501)})
	if code, raw := c.api.do("PUT", gbase+"/long", string(long), nil); code != http.StatusBadRequest {
		t.Errorf("501-character value = %d %s, want 400", code, raw)
	}
	wide := strings.Repeat("é", 250) + strings.Repeat("日", 249) + "😀"
	body, _ := json.Marshal(acd.PropertyValue{Value: wide})
	if code, raw := c.api.do("PUT", gbase+"/wide", string(body), nil); code != http.StatusCreated {
		t.Errorf("500 multi-byte characters = %d %s, want 201", code, raw)
	}
	p = acd.Property{}
	if c.api.do("GET", gbase+"/wide", nil, &p); p.Value != wide {
		t.Errorf("multi-byte value read back as %d runes", len([]rune(p.Value)))
	}

	// Another owner: writes refused, reads see nothing.
	other := "amzn1.application.someone-else"
	if code, raw := c.api.do("PUT", base+other+"/k", `{"value": "v"}`, nil); code != http.StatusForbidden {
		t.Errorf("PUT with another owner = %d %s, want 403", code, raw)
	}
	if code, raw := c.api.do("DELETE", base+other+"/k1", nil, nil); code != http.StatusForbidden {
		t.Errorf("DELETE with another owner = %d %s, want 403", code, raw)
	}
	code, raw = c.api.do("GET", base+other, nil, nil)
	if code != http.StatusOK || strings.ReplaceAll(strings.TrimSpace(string(raw)), " ", "") != `{"data":{}}` {
		t.Errorf("GET with another owner = %d %s, want 200 {\"data\":{}}", code, raw)
	}
	// The empty owner segment of acd_cli's list_properties.
	if code, raw := c.api.do("GET", base, nil, nil); code != http.StatusNotFound {
		t.Errorf("GET %s (empty owner) = %d %s, want 404", base, code, raw)
	}
	t.Run("EmptyOwnerWithKey", func(t *testing.T) {
		c := newACDC(t, s, "props")
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			var body any
			if m == "PUT" {
				body = `{"value": "v"}`
			}
			if code, raw := c.api.do(m, base+"/k1", body, nil); code != http.StatusNotFound {
				t.Errorf("%s %s/k1 (empty owner) = %d %s, want 404", m, base, code, raw)
			}
		}
	})
	// Properties of an unknown node.
	if code, _ := c.api.do("GET", "/drive/v1/nodes/AAAAAAAAAAAAAAAAAAAAAA/properties/"+owner, nil, nil); code != http.StatusNotFound {
		t.Errorf("properties of a missing node = %d, want 404", code)
	}
	// Another user does not see them, even with the same app.
	o := newACDC(t, s, "props-other")
	if code, _ := o.api.do("GET", base+owner, nil, nil); code != http.StatusNotFound {
		t.Errorf("another user's node properties = %d, want 404", code)
	}
	// Properties set at creation are readable.
	var d acd.Node
	code, raw = c.api.do("POST", "/drive/v1/nodes", map[string]any{"kind": "FOLDER", "name": "with props", "properties": map[string]map[string]string{owner: {"a": "1"}}}, &d)
	if code != http.StatusCreated {
		t.Fatalf("create with properties = %d %s", code, raw)
	}
	p = acd.Property{}
	if code, _ := c.api.do("GET", "/drive/v1/nodes/"+d.ID+"/properties/"+owner+"/a", nil, &p); code != http.StatusOK || p.Value != "1" {
		t.Errorf("property set at creation = %d %+v", code, p)
	}
}

func TestACDCLIChanges(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})

	t.Run("FullSync", func(t *testing.T) {
		c := newACDC(t, s, "changes-full")
		d := c.mkdir("d", c.root)
		f := c.putFile("f.txt", d.ID, []byte("f"))
		sets, ended := c.changes(`{}`)
		if !ended {
			t.Fatal("full sync did not end with {\"end\":true}")
		}
		if !sets[0].Reset {
			t.Error("full sync without reset")
		}
		var root *acd.Node
		for _, cs := range sets {
			for _, n := range cs.Nodes {
				if n.ID == c.root {
					root = n
				}
			}
		}
		if root == nil || !root.IsRoot || root.Kind != "FOLDER" || root.Name != "" || len(root.Parents) != 0 {
			t.Errorf("root in the full sync = %+v", root)
		}
		if ids := changedIDs(sets); !slices.Equal(ids, []string{c.root, d.ID, f.ID}) {
			t.Errorf("full sync ids = %v", ids)
		}
		// Required fields of acd_cli's cache insert.
		for _, cs := range sets {
			for _, n := range cs.Nodes {
				if n.ID == "" || n.Kind == "" || n.Status == "" || n.Parents == nil || n.CreatedDate == "" || n.ModifiedDate == "" {
					t.Errorf("node lacks a field acd_cli needs: %+v", n)
				}
			}
		}
		// Exactly one body, whatever the Content-Type.
		code, raw := c.api.do("POST", "/drive/v1/changes", "", nil)
		if code != http.StatusOK {
			t.Fatalf("changes with an empty body = %d", code)
		}
		if s2, _ := parseChanges(t, raw); !slices.Equal(changedIDs(s2), changedIDs(sets)) {
			t.Errorf("empty body gave %v", changedIDs(s2))
		}
	})

	t.Run("IncludePurged", func(t *testing.T) {
		c := newACDC(t, s, "changes-purged")
		cp := c.lastCheckpoint()
		d := c.mkdir("d", c.root)
		f := c.putFile("f.txt", d.ID, []byte("f"))
		g := c.putFile("g.txt", d.ID, []byte("g"))
		c.call("PUT", "/drive/v1/trash/"+g.ID, nil, http.StatusOK)
		c.call("DELETE", "/drive/v1/nodes/"+f.ID, nil, http.StatusOK)
		for _, body := range []string{
			`{"checkpoint": "` + cp + `", "includePurged": "true"}`, // acd_cli, go-acd
			`{"checkpoint": "` + cp + `", "includePurged": true}`,
		} {
			sets, ended := c.changes(body)
			if !ended {
				t.Errorf("%s: no end line", body)
			}
			for _, cs := range sets {
				if cs.Reset {
					t.Errorf("%s: reset", body)
				}
			}
			if ids := changedIDs(sets); !slices.Equal(ids, []string{d.ID, g.ID, f.ID}) {
				t.Errorf("%s: ids %v, want %v", body, ids, []string{d.ID, g.ID, f.ID})
			}
			st := changedStatus(sets)
			if st[f.ID] != "PURGED" || st[g.ID] != "TRASH" || st[d.ID] != "AVAILABLE" {
				t.Errorf("%s: statuses %v", body, st)
			}
		}
		for _, body := range []string{`{"checkpoint": "` + cp + `"}`, `{"checkpoint": "` + cp + `", "includePurged": "false"}`} {
			sets, _ := c.changes(body)
			if ids := changedIDs(sets); !slices.Equal(ids, []string{d.ID, g.ID}) {
				t.Errorf("%s: ids %v, want no purged node", body, ids)
			}
		}
	})

	// mutate makes 8 changes to 7 nodes and returns the ids in the order
	// of their latest change.
	mutate := func(c *acdc) []string {
		var ids []string
		for i := range 5 {
			ids = append(ids, c.mkdir(fmt.Sprintf("n%d", i), c.root).ID)
		}
		ids = append(ids, c.putFile("n5.txt", ids[0], []byte("n5")).ID)
		ids = append(ids, c.putFile("n6.txt", ids[0], []byte("n6")).ID)
		c.call("PATCH", "/drive/v1/nodes/"+ids[1], `{"name": "n1 renamed"}`, http.StatusOK)
		return append(slices.Delete(slices.Clone(ids), 1, 2), ids[1])
	}

	t.Run("ChunkSize", func(t *testing.T) {
		c := newACDC(t, s, "changes-chunk")
		cp := c.lastCheckpoint()
		want := mutate(c)
		sets, ended := c.changes(`{"checkpoint": "` + cp + `", "chunkSize": 2}`)
		if !ended {
			t.Error("no end line")
		}
		if len(sets) < 4 {
			t.Errorf("chunkSize 2 gave %d sets for 7 nodes", len(sets))
		}
		for i, cs := range sets {
			if len(cs.Nodes) > 2 {
				t.Errorf("set %d has %d nodes", i, len(cs.Nodes))
			}
		}
		if ids := changedIDs(sets); !slices.Equal(ids, want) {
			t.Errorf("ids = %v, want %v (latest change order)", ids, want)
		}
		if renamed := sets[len(sets)-1].Nodes; len(renamed) == 0 || renamed[len(renamed)-1].Name != "n1 renamed" {
			t.Errorf("last node is not the renamed one in its current state: %+v", renamed)
		}
		// The last checkpoint is current: nothing newer.
		last := sets[len(sets)-1].Checkpoint
		if again, _ := c.changes(`{"checkpoint": "` + last + `"}`); len(again) != 1 || len(again[0].Nodes) != 0 {
			t.Errorf("changes after the last checkpoint = %+v", again)
		}
		// Every intermediate checkpoint resumes right after its set.
		seen := 0
		for i, cs := range sets[:len(sets)-1] {
			seen += len(cs.Nodes)
			rest, _ := c.changes(`{"checkpoint": "` + cs.Checkpoint + `"}`)
			if ids := changedIDs(rest); !slices.Equal(ids, want[seen:]) {
				t.Errorf("from checkpoint of set %d: %v, want %v", i, ids, want[seen:])
			}
		}
	})

	t.Run("MaxNodes", func(t *testing.T) {
		c := newACDC(t, s, "changes-max")
		cp := c.lastCheckpoint()
		want := mutate(c)
		for _, chunk := range []int{1, 2} {
			body := fmt.Sprintf(`{"checkpoint": "%s", "maxNodes": 3, "chunkSize": %d}`, cp, chunk)
			sets, ended := c.changes(body)
			if ended {
				t.Errorf("%s: the stream ended although nodes are left", body)
			}
			ids := changedIDs(sets)
			if len(ids) < 3 || len(ids) > 3+chunk-1 || !slices.Equal(ids, want[:len(ids)]) {
				t.Fatalf("%s: ids %v, want a prefix of %v of about 3", body, ids, want)
			}
			rest, ended := c.changes(`{"checkpoint": "` + sets[len(sets)-1].Checkpoint + `"}`)
			if !ended || !slices.Equal(changedIDs(rest), want[len(ids):]) {
				t.Errorf("%s: the rest = %v (end %v), want %v", body, changedIDs(rest), ended, want[len(ids):])
			}
		}
		// go-acd/acd asks for chunkSize 1, maxNodes 1 to get a checkpoint.
		sets, _ := c.changes(`{"chunkSize": 1, "maxNodes": 1}`)
		if len(sets) != 1 || len(sets[0].Nodes) != 1 || !sets[0].Reset {
			t.Errorf("chunkSize 1 maxNodes 1 = %+v", sets)
		}
	})

	t.Run("MaxNodesDefaultChunk", func(t *testing.T) {
		c := newACDC(t, s, "changes-max-default")
		cp := c.lastCheckpoint()
		want := mutate(c)
		sets, ended := c.changes(`{"checkpoint": "` + cp + `", "maxNodes": 3}`)
		ids := changedIDs(sets)
		if ended || len(ids) > 3 || !slices.Equal(ids, want[:len(ids)]) {
			t.Errorf("maxNodes 3 (default chunkSize) sent %d of 7 nodes, end %v; want about 3 and no end line", len(ids), ended)
		}
	})

	t.Run("Gzip", func(t *testing.T) {
		c := newACDC(t, s, "changes-gzip")
		mutate(c)
		_, plain := c.api.do("POST", "/drive/v1/changes", `{"chunkSize": 3}`, nil)
		tr := &http.Transport{DisableCompression: true}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest("POST", s.URL+"/drive/v1/changes", strings.NewReader(`{"chunkSize": 3}`))
		req.Header.Set("Authorization", "Bearer "+c.tok)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("gzip changes = %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gunzip: %v", err)
		}
		if !bytes.Equal(raw, plain) {
			t.Errorf("gzip body differs:\n%s\nplain:\n%s", raw, plain)
		}
		sets, ended := parseChanges(t, raw)
		if !ended || len(changedIDs(sets)) != 8 {
			t.Errorf("gzip stream: %d nodes, end %v", len(changedIDs(sets)), ended)
		}
	})
}

func TestBulkPurge(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newACDC(t, s, "bulk")
	a := c.putFile("a.txt", c.root, []byte("a"))
	b := c.putFile("b.txt", c.root, []byte("b"))
	keep := c.putFile("keep.txt", c.root, []byte("keep"))
	c.call("PUT", "/drive/v1/trash/"+b.ID, nil, http.StatusOK) // TRASH nodes can be purged too
	cp := c.lastCheckpoint()
	var out acd.NodeList
	code, raw := c.api.do("POST", "/drive/v1/bulk/nodes/purge", `{"recurse": "false", "nodeIds": ["`+a.ID+`", "`+b.ID+`"]}`, &out)
	if code != http.StatusOK {
		t.Fatalf("bulk purge = %d %s, want 200", code, raw)
	}
	sets, _ := c.changes(`{"checkpoint": "` + cp + `", "includePurged": "true"}`)
	if st := changedStatus(sets); len(st) != 2 || st[a.ID] != "PURGED" || st[b.ID] != "PURGED" {
		t.Errorf("changes after bulk purge = %v, want both PURGED", st)
	}
	for _, id := range []string{a.ID, b.ID} {
		if code, _ := c.node(id); code != http.StatusNotFound {
			t.Errorf("GET purged node = %d, want 404", code)
		}
		if resp, _ := c.get("GET", "/cdproxy/nodes/"+id+"/content", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("content of purged node = %d, want 404", resp.StatusCode)
		}
	}
	if names := c.childNames(c.root); !slices.Equal(names, []string{"keep.txt"}) {
		t.Errorf("root lists %v", names)
	}
	var trash acd.NodeList
	c.api.do("GET", "/drive/v1/trash", nil, &trash)
	if trash.Count != 0 {
		t.Errorf("trash after purge = %+v", trash)
	}
	// The name is free again; the usage no longer counts the bytes.
	c.putFile("a.txt", c.root, []byte("a"))
	if u := c.usage(); u.Doc.Total.Count != 2 {
		t.Errorf("usage after purge = %+v", u.Doc)
	}
	// A purged or unknown id fails the whole request.
	if code, raw := c.api.do("POST", "/drive/v1/bulk/nodes/purge", `{"recurse": "false", "nodeIds": ["`+keep.ID+`", "`+a.ID+`"]}`, nil); code != http.StatusNotFound {
		t.Errorf("bulk purge with a purged id = %d %s, want 404", code, raw)
	}
	if code, _ := c.node(keep.ID); code != http.StatusOK {
		t.Errorf("node of a failed bulk purge = %d, want it untouched", code)
	}
	if code, raw := c.api.do("POST", "/drive/v1/bulk/nodes/purge", `{"recurse": "false", "nodeIds": []}`, nil); code != http.StatusBadRequest {
		t.Errorf("bulk purge of nothing = %d %s, want 400", code, raw)
	}
	if code, _ := c.api.do("POST", "/drive/v1/bulk/nodes/purge", `{"nodeIds": ["`+c.root+`"]}`, nil); code != http.StatusForbidden {
		t.Errorf("bulk purge of the root = %d, want 403", code)
	}
}

func TestSubtreeTrashAndPurge(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newACDC(t, s, "subtree")
	// root/D/{f1, S/{f2}, shared, S2/{f3}}, root/O/{shared, S2}
	d := c.mkdir("D", c.root)
	o := c.mkdir("O", c.root)
	sub := c.mkdir("S", d.ID)
	s2 := c.mkdir("S2", d.ID)
	f1 := c.putFile("f1", d.ID, []byte("f1"))
	f2 := c.putFile("f2", sub.ID, []byte("f2"))
	f3 := c.putFile("f3", s2.ID, []byte("f3"))
	shared := c.putFile("shared", d.ID, []byte("shared"))
	c.call("PUT", "/drive/v1/nodes/"+o.ID+"/children/"+shared.ID, nil, http.StatusOK)
	c.call("PUT", "/drive/v1/nodes/"+o.ID+"/children/"+s2.ID, nil, http.StatusOK)

	status := func(id string) string {
		t.Helper()
		code, n := c.node(id)
		if code == http.StatusNotFound {
			return "404"
		}
		return n.Status
	}
	wantStatus := func(when string, want map[string]string) {
		t.Helper()
		for id, w := range want {
			if got := status(id); got != w {
				t.Errorf("%s: node %s is %s, want %s", when, id, got, w)
			}
		}
	}

	cp := c.lastCheckpoint()
	c.call("PUT", "/drive/v1/trash/"+d.ID, nil, http.StatusOK)
	wantStatus("after trashing D", map[string]string{
		d.ID: "TRASH", sub.ID: "TRASH", f1.ID: "TRASH", f2.ID: "TRASH",
		shared.ID: "AVAILABLE", s2.ID: "AVAILABLE", f3.ID: "AVAILABLE", o.ID: "AVAILABLE",
	})
	if names := c.childNames(o.ID); !slices.Equal(names, []string{"S2", "shared"}) {
		t.Errorf("O lists %v after trashing D", names)
	}
	sets, _ := c.changes(`{"checkpoint": "` + cp + `"}`)
	if st := changedStatus(sets); len(st) != 4 || st[d.ID] != "TRASH" || st[f2.ID] != "TRASH" {
		t.Errorf("changes after trashing D = %v, want D, S, f1, f2 as TRASH", st)
	}
	var trash acd.NodeList
	c.api.do("GET", "/drive/v1/trash", nil, &trash)
	if trash.Count != 1 || trash.Data[0].ID != d.ID {
		t.Errorf("trash lists %d nodes, want D alone", trash.Count)
	}
	// acd_cli's old-sync lists trashed files and folders with filters.
	var tf acd.NodeList
	c.api.do("GET", "/drive/v1/nodes?filters=status:TRASH%20AND%20kind:FILE", nil, &tf)
	if tf.Count != 2 {
		t.Errorf("status:TRASH AND kind:FILE = %d nodes, want f1 and f2", tf.Count)
	}

	c.call("POST", "/drive/v1/trash/"+d.ID+"/restore", nil, http.StatusOK)
	wantStatus("after restoring D", map[string]string{d.ID: "AVAILABLE", sub.ID: "AVAILABLE", f1.ID: "AVAILABLE", f2.ID: "AVAILABLE", shared.ID: "AVAILABLE"})
	if n := c.mustNode(shared.ID); len(n.Parents) != 2 {
		t.Errorf("shared parents after restore = %v", n.Parents)
	}

	cp = c.lastCheckpoint()
	c.call("DELETE", "/drive/v1/nodes/"+d.ID, nil, http.StatusOK)
	wantStatus("after purging D", map[string]string{
		d.ID: "404", sub.ID: "404", f1.ID: "404", f2.ID: "404",
		shared.ID: "AVAILABLE", s2.ID: "AVAILABLE", f3.ID: "AVAILABLE", o.ID: "AVAILABLE",
	})
	if n := c.mustNode(shared.ID); !slices.Equal(n.Parents, []string{o.ID}) {
		t.Errorf("shared parents after purging D = %v, want [O]", n.Parents)
	}
	if n := c.mustNode(s2.ID); !slices.Equal(n.Parents, []string{o.ID}) {
		t.Errorf("S2 parents after purging D = %v, want [O]", n.Parents)
	}
	if names := c.childNames(s2.ID); !slices.Equal(names, []string{"f3"}) {
		t.Errorf("S2 lists %v", names)
	}
	sets, _ = c.changes(`{"checkpoint": "` + cp + `", "includePurged": "true"}`)
	st := changedStatus(sets)
	for _, id := range []string{d.ID, sub.ID, f1.ID, f2.ID} {
		if st[id] != "PURGED" {
			t.Errorf("changes after purge: %s is %q, want PURGED", id, st[id])
		}
	}
	if st[shared.ID] != "AVAILABLE" || st[s2.ID] != "AVAILABLE" || len(st) != 6 {
		t.Errorf("changes after purge = %v, want 4 PURGED and the two relinked survivors", st)
	}
	for _, cs := range sets {
		for _, n := range cs.Nodes {
			if n.Status == "PURGED" && (n.ContentProperties != nil || len(n.Parents) != 0 || len(n.Labels) != 0 || n.Description != "") {
				t.Errorf("purged node carries data: %+v", n)
			}
		}
	}
	if names := c.childNames(c.root); !slices.Equal(names, []string{"O"}) {
		t.Errorf("root lists %v after purge", names)
	}
	t.Run("TombstonesKeepName", func(t *testing.T) {
		// Decision (nodes/doc.go): tombstones keep id, kind and name, which
		// rclone's change notifications use to invalidate cached paths.
		for _, cs := range sets {
			for _, n := range cs.Nodes {
				if n.Status == "PURGED" && n.Name == "" {
					t.Errorf("purged node %s lost its name", n.ID)
				}
			}
		}
	})
}
