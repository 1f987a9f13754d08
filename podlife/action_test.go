package podlife

import "testing"

func TestParseAction(t *testing.T) {
	tests := []struct {
		in      string
		want    Action
		wantErr string
	}{
		{in: "start", want: ActionStart},
		{in: "end", want: ActionEnd},
		{in: "clean", want: ActionClean},
		{in: "release", want: ActionRelease},
		{in: "relase", wantErr: `unknown action "relase": did you mean release?`},
		{in: "RELEASE", wantErr: `unknown action "RELEASE": did you mean release?`},
		// The original's help screen says [start | stop | clean].
		{in: "stop", wantErr: `unknown action "stop": did you mean end?`},
		{in: "STOP", wantErr: `unknown action "STOP": did you mean end?`},
		{in: "START", wantErr: `unknown action "START": did you mean start?`},
		{in: "strat", wantErr: `unknown action "strat": did you mean start?`},
		{in: "ends", wantErr: `unknown action "ends": did you mean end?`},
		{in: "strt", wantErr: `unknown action "strt": did you mean start?`},
		{in: "claen", wantErr: `unknown action "claen": did you mean clean?`},
		{in: "restart", wantErr: `unknown action "restart": want start, end, clean or release`},
		{in: "drop", wantErr: `unknown action "drop": want start, end, clean or release`},
		{in: "", wantErr: `unknown action "": want start, end, clean or release`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAction(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseAction(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("ParseAction(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"end", "end", 0}, {"", "end", 3}, {"strat", "start", 1}, {"ned", "end", 1},
		{"ends", "end", 1}, {"clean", "cleans", 1}, {"stop", "start", 3}, {"restart", "start", 2},
		{"kitten", "sitting", 3}, {"ca", "abc", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}
