package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string
		wantErr string
	}{
		{"steps come in version order, not name order", fstest.MapFS{
			"m/0010_later.sql": file("B"), "m/0002_second.sql": file("A"), "m/README.md": file("x"),
		}, []string{"0002_second.sql", "0010_later.sql"}, ""},
		{"a name without its version is refused", fstest.MapFS{"m/init.sql": file("A")}, nil, "init.sql is not named"},
		{"two files of one version are refused", fstest.MapFS{
			"m/0001_a.sql": file("A"), "m/01_b.sql": file("B"),
		}, nil, "share a version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, err := Load(tt.files, "m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range steps {
				names = append(names, s.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("steps %v, want %v", names, tt.want)
			}
			if steps[0].ID() != "0002" || steps[0].SQL != "A" {
				t.Fatalf("first step %+v", steps[0])
			}
		})
	}
}
