package podlife

import (
	"errors"
	"testing"

	"github.com/aku-project/aku/conf"
)

func TestIdentify(t *testing.T) {
	cfg := &conf.Config{File: "aku.conf", StsName: "altibase-sts", SvcName: "altibase-svc", ServerCount: 4}
	tests := []struct {
		pod     string
		want    Identity
		wantErr string
	}{
		{pod: "altibase-sts-0", want: Identity{PodName: "altibase-sts-0", Ordinal: 0, Host: "altibase-sts-0.altibase-svc"}},
		{pod: "altibase-sts-3", want: Identity{PodName: "altibase-sts-3", Ordinal: 3, Host: "altibase-sts-3.altibase-svc"}},
		{pod: "ALTIBASE-STS-1", want: Identity{PodName: "ALTIBASE-STS-1", Ordinal: 1, Host: "ALTIBASE-STS-1.altibase-svc"}},
		{pod: "altibase-sts-4", want: Identity{PodName: "altibase-sts-4", Ordinal: 4, Host: "altibase-sts-4.altibase-svc"},
			wantErr: `pod identity: pod "altibase-sts-4" has ordinal 4, but AKU_SERVER_COUNT is 4: aku replicates between ordinals 0 to 3 only`},
		{pod: "other-sts-0", want: Identity{PodName: "other-sts-0", Ordinal: 0, Host: "other-sts-0.altibase-svc"},
			wantErr: `pod identity: pod name "other-sts-0" does not belong to StatefulSet "altibase-sts" (AKU_STS_NAME in aku.conf)`},
		{pod: "altibase-sts", want: Identity{PodName: "altibase-sts", Ordinal: -1, Host: "altibase-sts.altibase-svc"},
			wantErr: `pod identity: pod name "altibase-sts" has no ordinal: a StatefulSet pod is named <AKU_STS_NAME>-<n>`},
		{pod: "altibase-sts-", want: Identity{PodName: "altibase-sts-", Ordinal: -1, Host: "altibase-sts-.altibase-svc"},
			wantErr: `pod identity: pod name "altibase-sts-" has no ordinal: a StatefulSet pod is named <AKU_STS_NAME>-<n>`},
		{pod: "altibase-sts-1a", want: Identity{PodName: "altibase-sts-1a", Ordinal: -1, Host: "altibase-sts-1a.altibase-svc"},
			wantErr: `pod identity: pod name "altibase-sts-1a" has no ordinal: a StatefulSet pod is named <AKU_STS_NAME>-<n>`},
		{pod: "", want: Identity{Ordinal: -1},
			wantErr: `pod identity: the pod name is empty (set POD_NAME from the Downward API)`},
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			got, err := Identify(tt.pod, cfg)
			if got != tt.want {
				t.Errorf("Identify(%q) = %+v, want %+v", tt.pod, got, tt.want)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrIdentity) {
				t.Errorf("error %v, want %q wrapping ErrIdentity", err, tt.wantErr)
			}
		})
	}
}

func TestIsMasterAndPeerHost(t *testing.T) {
	cfg := &conf.Config{StsName: "sts", SvcName: "svc", ServerCount: 6}
	if !(Identity{Ordinal: 0}).IsMaster() || (Identity{Ordinal: 1}).IsMaster() || (Identity{Ordinal: -1}).IsMaster() {
		t.Error("IsMaster: want true for ordinal 0 only")
	}
	if got, want := PeerHost(cfg, 5), "sts-5.svc"; got != want {
		t.Errorf("PeerHost = %q, want %q", got, want)
	}
}
