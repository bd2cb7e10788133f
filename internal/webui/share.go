package webui

import (
	"html/template"
	"net/http"
	"time"

	"github.com/clouddrive/clouddrive/internal/bytesize"
)

// The public pages of share links (/s/{token}): a folder's listing and the
// password form. They run no script and load nothing: the styles are
// inline, the CSP forbids everything else.

// ShareListing is the listing page of a shared folder.
type ShareListing struct {
	Title   string
	Entries []ShareEntry
	// Sub is set below the shared folder itself; Top links back to it.
	Sub bool
	Top string
}

// ShareEntry is one child in a ShareListing.
type ShareEntry struct {
	Name     string
	Href     string // the child's page or file
	Download string // files: the attachment URL
	Size     int64
	Modified time.Time
	Folder   bool
}

// SharePassword is the password form of a protected link.
type SharePassword struct {
	Action  string // where the form posts
	Message string // why the password is asked
	Next    string // the page to go to after, inside the link
	Wrong   bool   // the last password was wrong
}

// WriteShareListing renders p with status.
func WriteShareListing(w http.ResponseWriter, status int, p ShareListing) {
	writeSharePage(w, status, listingPage, p)
}

// WriteSharePassword renders p with status.
func WriteSharePassword(w http.ResponseWriter, status int, p SharePassword) {
	writeSharePage(w, status, passwordPage, p)
}

func writeSharePage(w http.ResponseWriter, status int, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}

var shareFuncs = template.FuncMap{
	"size": bytesize.Format,
	"utc":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
}

const pageStyle = `<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.4rem;word-break:break-word}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd}
td.num{text-align:right;white-space:nowrap}
a{color:#0645ad}a:focus,button:focus,input:focus{outline:3px solid #ffbf47;outline-offset:1px}
label{display:block;margin:.5rem 0}
input[type=password]{font:inherit;padding:.3rem;width:min(20rem,100%)}
button{font:inherit;padding:.3rem 1rem}
.err{color:#a00000}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}a{color:#8ab4f8}th,td{border-color:#333}.err{color:#ff8080}}
</style>`

var listingPage = template.Must(template.New("listing").Funcs(shareFuncs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>` + pageStyle + `</head>
<body><main>
<h1>{{.Title}}</h1>
{{if .Sub}}<p><a href="{{.Top}}">Back to the shared folder</a></p>{{end}}
{{if .Entries}}<table>
<caption class="visually-hidden" style="text-align:left">Contents of {{.Title}}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Modified (UTC)</th><th scope="col"><span>Download</span></th></tr></thead>
<tbody>{{range .Entries}}<tr>
<td>{{if .Folder}}<a href="{{.Href}}">{{.Name}}/</a>{{else}}<a href="{{.Href}}">{{.Name}}</a>{{end}}</td>
<td class="num">{{if .Folder}}folder{{else}}{{size .Size}}{{end}}</td>
<td>{{utc .Modified}}</td>
<td>{{if .Download}}<a href="{{.Download}}" aria-label="Download {{.Name}}">Download</a>{{end}}</td>
</tr>{{end}}</tbody></table>
{{else}}<p>This folder is empty.</p>{{end}}
</main></body></html>
`))

var passwordPage = template.Must(template.New("password").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Password required</title>` + pageStyle + `</head>
<body><main>
<h1>Password required</h1>
<form method="post" action="{{.Action}}">
{{if .Wrong}}<p class="err" role="alert" id="err">Wrong password, try again.</p>{{else}}<p id="err">{{.Message}}.</p>{{end}}
<label for="pw">Password</label>
<input type="password" id="pw" name="password" autocomplete="current-password" required autofocus aria-describedby="err">
{{if .Next}}<input type="hidden" name="next" value="{{.Next}}">{{end}}
<button type="submit">Open</button>
</form>
</main></body></html>
`))
