package httpapi_test

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/httpapi"
)

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:8080": true, "LocalHost:1": true,
		"127.0.0.1": true, "127.0.0.1:8080": true, "127.1.2.3:65535": true,
		"[::1]": true, "[::1]:8080": true,

		"": false, "localhost.": false, "localhost:": false, "localhost:http": false, "localhost:80/x": false,
		"localhost:123456": false, "evil.localhost": false, "localhost.evil.example": false,
		"127.0.0.1.evil.example": false, "128.0.0.1": false, "0.0.0.0:8080": false, "10.0.0.1": false,
		"::1": false, "[::1%lo]:80": false, "[::ffff:127.0.0.1]:80": false, "[::]:80": false,
		"127.1": false, "0x7f.0.0.1": false, "2130706433": false, "drive.example.com": false,
		"[::1]:80:80": false, "evil.example@127.0.0.1": false,
	} {
		if got := httpapi.LoopbackHost(host); got != want {
			t.Errorf("LoopbackHost(%q) = %t, want %t", host, got, want)
		}
	}
}
