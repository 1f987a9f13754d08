package podlife

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aku-project/aku/conf"
)

// Identity is this pod's place in the StatefulSet (docs/behaviour.md, "Pods
// and roles").
type Identity struct {
	PodName string
	Ordinal int
	Host    string // "<pod name>.<AKU_SVC_NAME>"
}

// Identify derives the ordinal from the pod name: the number after its last
// '-'. The part before it must be AKU_STS_NAME (compared without regard to
// case, as DNS names are), and the ordinal must be below AKU_SERVER_COUNT.
// Errors wrap ErrIdentity. With an error, the Identity still holds what
// the name gives (Ordinal is -1 when it has none), for aku -i, which shows
// identity problems as warnings.
func Identify(podName string, cfg *conf.Config) (Identity, error) {
	id := Identity{PodName: podName, Ordinal: -1}
	if podName == "" {
		return id, fmt.Errorf("%w: the pod name is empty (set POD_NAME from the Downward API)", ErrIdentity)
	}
	id.Host = podName + "." + cfg.SvcName
	cut := strings.LastIndexByte(podName, '-')
	digits := podName[cut+1:]
	if cut < 0 || digits == "" || strings.Trim(digits, "0123456789") != "" || len(digits) > 9 {
		return id, fmt.Errorf("%w: pod name %q has no ordinal: a StatefulSet pod is named <AKU_STS_NAME>-<n>", ErrIdentity, podName)
	}
	n, _ := strconv.Atoi(digits)
	id.Ordinal = n
	if sts := podName[:cut]; !strings.EqualFold(sts, cfg.StsName) {
		return id, fmt.Errorf("%w: pod name %q does not belong to StatefulSet %q (AKU_STS_NAME in %s)", ErrIdentity, podName, cfg.StsName, cfg.File)
	}
	if n >= cfg.ServerCount {
		return id, fmt.Errorf("%w: pod %q has ordinal %d, but AKU_SERVER_COUNT is %d: aku replicates between ordinals 0 to %d only",
			ErrIdentity, podName, n, cfg.ServerCount, cfg.ServerCount-1)
	}
	return id, nil
}

// IsMaster reports whether this is the master pod, ordinal 0
// (docs/behaviour.md, "Pods and roles").
func (id Identity) IsMaster() bool { return id.Ordinal == 0 }

// PeerHost is the DNS name of the server with this ordinal:
// "<AKU_STS_NAME>-<ordinal>.<AKU_SVC_NAME>" (docs/behaviour.md, "Pods and
// roles").
func PeerHost(cfg *conf.Config, ordinal int) string {
	return cfg.StsName + "-" + strconv.Itoa(ordinal) + "." + cfg.SvcName
}
