//go:build !linux && !darwin && !windows

package trust

func systemStore() target {
	return absent{System, "keywright knows no system trust store on this operating system"}
}
