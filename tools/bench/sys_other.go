//go:build !linux

package main

import "os"

const dsyncFlag = os.O_SYNC

func pinSelf([]string) (bool, int) { return false, 0 }

// cpuSeconds is not measured here (0).
func cpuSeconds(int) float64 { return 0 }
