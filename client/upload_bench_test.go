package client_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/testbytes"
)

// BenchmarkUploadSmall uploads distinct 64 KiB files from 8 concurrent
// clients into one folder of a server on the embedded stores (a real
// SQLite file and blob directory, every upload durable before its 2xx),
// as the small-file row of clouddrive bench does over loopback. It
// reports files/s; run it with -cpuprofile or -blockprofile to see where
// an upload's time goes.
func BenchmarkUploadSmall(b *testing.B) {
	srv := drivetest.New(b, drivetest.Options{Stores: "embedded"})
	ctx := context.Background()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c, err := client.New(srv.URL, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: srv.Token("bench")}),
		client.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		b.Fatal(err)
	}
	root, err := c.Root(ctx)
	if err != nil {
		b.Fatal(err)
	}
	dir, err := c.CreateFolder(ctx, root.ID, "small", nil)
	if err != nil {
		b.Fatal(err)
	}
	const size = 64 << 10
	base := testbytes.Random(size, 1)
	var seq atomic.Int64
	b.SetBytes(size)
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		data := bytes.Clone(base)
		for pb.Next() {
			i := seq.Add(1)
			copy(data, fmt.Sprintf("%016d", i)) // distinct content
			if _, err := c.Upload(ctx, dir.ID, fmt.Sprintf("f%07d.bin", i), bytes.NewReader(data), &client.UploadOptions{Size: size}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
