package e2e_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	s3blob "github.com/clouddrive/clouddrive/internal/blob/s3"
)

// tusRequest sends one tus request and returns the reply with its body read.
func tusRequest(t *testing.T, method, url, tok string, hdr map[string]string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Tus-Resumable", "1.0.0")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, raw
}

// TestTusReplicaKilledMidUpload: a resumable upload streaming into one
// replica that is killed (SIGKILL) mid-PATCH, once it staged a part in
// the bucket, is resumed on the other replica from the offset its HEAD
// reports (the parts A finished), and completes there; the killed
// replica's lock on the upload died with it.
func TestTusReplicaKilledMidUpload(t *testing.T) {
	c := newCluster(t)
	tok := c.token(t, "tus")
	data := randomBytes(12<<20+77, 51) // S3 parts of 5 MiB and a partial one
	md := "name " + base64.StdEncoding.EncodeToString([]byte("killed.bin")) +
		",md5 " + base64.StdEncoding.EncodeToString([]byte(md5hex(data)))
	resp, raw := tusRequest(t, "POST", c.a.url+"/cdproxy/uploads/", tok,
		map[string]string{"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": md}, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(loc, c.a.url+"/cdproxy/uploads/") {
		t.Fatalf("create on A = %d %v %s", resp.StatusCode, resp.Header, raw)
	}
	// Stream 10 MiB of the file into A (the request declares all of it),
	// and kill A while it waits for the rest.
	pr, pw := io.Pipe()
	sent := make(chan struct{})
	go func() {
		_, _ = pw.Write(data[:10<<20])
		close(sent)
	}()
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("PATCH", loc, pr)
		req.ContentLength = int64(len(data))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Upload-Offset", "0")
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	select {
	case <-sent:
	case <-time.After(60 * time.Second):
		t.Fatal("the PATCH did not take 10 MiB")
	}
	// Kill A once it has staged a whole part in the bucket.
	client, err := s3blob.NewClient(t.Context(), c.s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		if stagedParts(t, client, c.s3cfg.Bucket) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("A staged no part of the upload")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.a.kill()
	pw.CloseWithError(io.ErrUnexpectedEOF)
	<-errc

	// On B: HEAD gives what A staged (its one finished S3 part of 8 MiB;
	// the part it was filling died with it), then the rest goes to B.
	onB := c.b.url + strings.TrimPrefix(loc, c.a.url)
	var final *http.Response
	for attempt := 0; attempt < 3 && final == nil; attempt++ {
		head, _ := tusRequest(t, "HEAD", onB, tok, nil, nil)
		off, err := strconv.Atoi(head.Header.Get("Upload-Offset"))
		if head.StatusCode != http.StatusOK || err != nil || off != 8<<20 {
			t.Fatalf("HEAD on B = %d %v", head.StatusCode, head.Header)
		}
		t.Logf("A staged %d bytes before it died", off)
		r, raw := tusRequest(t, "PATCH", onB, tok, map[string]string{"Upload-Offset": strconv.Itoa(off),
			"Content-Type": "application/offset+octet-stream"}, bytes.NewReader(data[off:]))
		switch r.StatusCode {
		case http.StatusNoContent:
			final = r
		case http.StatusConflict: // offset moved meanwhile: HEAD again
		default:
			t.Fatalf("PATCH on B from %d = %d %s", off, r.StatusCode, raw)
		}
	}
	id := final.Header.Get("Clouddrive-Node-Id")
	if id == "" {
		t.Fatalf("no node id: %v", final.Header)
	}
	req, _ := http.NewRequest("GET", c.b.url+"/cdproxy/nodes/"+id+"/content", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	got, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if content := readAll(t, got.Body); !bytes.Equal(content, data) {
		t.Fatalf("content on B: %d bytes, md5 %s", len(content), md5hex(content))
	}
}

// stagedParts counts the parts of the multipart uploads under uploads/.
func stagedParts(t *testing.T, client *s3.Client, bucket string) int {
	t.Helper()
	prefix := "uploads/"
	mps, err := client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range mps.Uploads {
		parts, err := client.ListParts(t.Context(), &s3.ListPartsInput{Bucket: &bucket, Key: u.Key, UploadId: u.UploadId})
		if err != nil {
			t.Fatal(err)
		}
		n += len(parts.Parts)
	}
	return n
}
