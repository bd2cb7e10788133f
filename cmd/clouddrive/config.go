package main

// Settings of the server commands come from four layers, lowest first:
//
//  1. the flag defaults (shown by --help),
//  2. a TOML file named by --config or CLOUDDRIVE_CONFIG,
//  3. environment variables CLOUDDRIVE_<FLAG>, the flag's name in upper
//     case with '-' as '_' (CLOUDDRIVE_PUBLIC_URL for --public-url),
//  4. flags on the command line.
//
// The flag set is the one schema: a file key or an environment variable is
// applied with the flag's own Set, so every layer is parsed and validated
// the same way and an error names the setting and where it came from.
// (koanf was considered; it would need a second schema in struct tags that
// mirrors the flags, for no gain here.)

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// EnvConfig names the environment variable that points at the config file.
const EnvConfig = "CLOUDDRIVE_CONFIG"

// Sources of a setting, as --print-config shows them.
const (
	srcDefault = "default"
	srcFile    = "file"
	srcEnv     = "env"
	srcFlag    = "flag"
)

// settingsFlags adds --config to cmd.
func settingsFlags(cmd *cobra.Command) {
	cmd.Flags().String("config", "", "TOML file of settings, keys named like the flags; env CLOUDDRIVE_<FLAG> overrides it, flags override both (env "+EnvConfig+")")
}

// notSettings are flags that are never read from a file or the environment.
var notSettings = map[string]bool{"help": true, "config": true, "print-config": true}

// envName is the environment variable of a flag.
func envName(flag string) string {
	return "CLOUDDRIVE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applySettings layers the config file and the environment under the
// flags the user set, and returns the source of every setting.
func applySettings(cmd *cobra.Command, getenv func(string) string) (map[string]string, error) {
	fs := cmd.Flags()
	src := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			src[f.Name] = srcFlag
		}
	})
	path, _ := fs.GetString("config")
	if path == "" {
		path = getenv(EnvConfig)
	}
	file := map[string]any{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		if err := toml.Unmarshal(b, &file); err != nil {
			var de *toml.DecodeError
			if errors.As(err, &de) {
				row, col := de.Position()
				return nil, fmt.Errorf("config file %s:%d:%d: %v", path, row, col, de)
			}
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		keys := make([]string, 0, len(file))
		for k := range file {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if f := fs.Lookup(k); f == nil || notSettings[k] {
				return nil, fmt.Errorf("config file %s: unknown setting %q (settings are named like the flags of %q)", path, k, cmd.CommandPath())
			}
		}
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || notSettings[f.Name] {
			return
		}
		if v, ok := lookupEnv(getenv, envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("setting %s (from %s=%q): %v", f.Name, envName(f.Name), v, e)
			}
			src[f.Name] = srcEnv
			return
		}
		raw, ok := file[f.Name]
		if !ok {
			src[f.Name] = srcDefault
			return
		}
		v, e := fileValue(raw)
		if e == nil {
			e = fs.Set(f.Name, v)
		}
		if e != nil {
			err = fmt.Errorf("setting %s (from config file %s): %v", f.Name, path, e)
		}
		src[f.Name] = srcFile
	})
	return src, err
}

func lookupEnv(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// fileValue turns a TOML value into the text a flag parses.
func fileValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("want a string, number or boolean, not %T", v)
}

// printSettings writes the effective settings as a TOML file that would
// reproduce them, with each setting's source as a comment and secrets
// masked.
func printSettings(w io.Writer, cmd *cobra.Command, src map[string]string) {
	fmt.Fprintf(w, "# effective settings of %q; sources: default < file < env < flag\n", cmd.CommandPath())
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if notSettings[f.Name] {
			return
		}
		val := maskSetting(f.Name, f.Value.String())
		switch f.Value.Type() {
		case "bool", "int", "int64", "float64", "uint", "uint64":
		default:
			val = strconv.Quote(val)
		}
		fmt.Fprintf(w, "%-18s = %-30s # %s\n", f.Name, val, src[f.Name])
	})
}

// maskSetting hides secrets in a setting's value: a password in a URL
// (postgres://user:secret@host), S3 keys in a URL's query, and the whole
// value of a setting named like a secret.
func maskSetting(name, v string) string {
	const mask = "*****"
	if v == "" {
		return v
	}
	for _, s := range []string{"secret", "password"} {
		if strings.Contains(name, s) {
			return mask
		}
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" {
		return v
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), mask)
	}
	q := u.Query()
	masked := false
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "secret") || strings.Contains(lk, "password") || strings.Contains(lk, "key") || strings.Contains(lk, "token") {
			q.Set(k, mask)
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	s := u.String()
	return strings.ReplaceAll(s, url.QueryEscape(mask), mask)
}
