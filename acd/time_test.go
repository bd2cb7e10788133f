package acd_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

func TestTimeJSON(t *testing.T) {
	cp := acd.ContentProperties{Size: 1, ModTime: acd.NewTime(time.Date(2026, 12, 7, 12, 0, 0, 120_456_000, time.FixedZone("CET", 3600)))}
	b, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"size":1,"md5":"","contentType":"","extension":"","version":0,"mtime":"2026-12-07T11:00:00.120Z"}`
	if string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	b, err = json.Marshal(acd.ContentProperties{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"size":0,"md5":"","contentType":"","extension":"","version":0}`; string(b) != want {
		t.Errorf("Marshal(no mtime) = %s, want %s", b, want)
	}

	for in, want := range map[string]time.Time{
		`{"mtime":"2026-12-07T11:00:00.123Z"}`:       time.Date(2026, 12, 7, 11, 0, 0, 123_000_000, time.UTC),
		`{"mtime":"2026-12-07T12:00:00+01:00"}`:      time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC),
		`{"mtime":"2026-12-07T11:00:00.123456789Z"}`: time.Date(2026, 12, 7, 11, 0, 0, 123_456_789, time.UTC),
		`{"mtime":null}`: {},
		`{"mtime":""}`:   {},
		`{}`:             {},
	} {
		var got acd.ContentProperties
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Errorf("Unmarshal(%s) error: %v", in, err)
			continue
		}
		if !got.ModTime.Equal(want) || got.ModTime.IsZero() != want.IsZero() {
			t.Errorf("Unmarshal(%s) ModTime = %v, want %v", in, got.ModTime, want)
		}
	}
	for _, in := range []string{`{"mtime":"yesterday"}`, `{"mtime":1700000000}`, `{"mtime":"2026-12-07"}`} {
		var got acd.ContentProperties
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", in, got.ModTime)
		}
	}
	if s := acd.FormatTime(time.Time{}); s != "" {
		t.Errorf("FormatTime(zero) = %q, want \"\"", s)
	}
}
