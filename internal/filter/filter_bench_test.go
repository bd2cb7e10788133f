package filter_test

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/filter"
)

// benchQueries are filters as ACD clients send them.
var benchQueries = map[string]string{
	"name":    `kind:FILE AND name:my\ holiday\ photo\ \(1\).jpg AND parents:9gjxNmFHTQiuD6AGlAr5-w`,
	"prefix":  `kind:FILE AND name:IMG_2026*`,
	"complex": `(kind:FILE OR kind:FOLDER) AND NOT status:TRASH AND modifiedDate:[2020-01-01T00:00:00Z TO *] AND (labels:work OR contentProperties.extension:pdf)`,
	"md5":     `contentProperties.md5:5d41402abc4b2a76b9719d911017c592`,
}

func BenchmarkParse(b *testing.B) {
	for name, q := range benchQueries {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := filter.Parse(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseSort(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filter.ParseSort(`["kind DESC", "modifiedDate DESC", "name ASC"]`); err != nil {
			b.Fatal(err)
		}
	}
}
