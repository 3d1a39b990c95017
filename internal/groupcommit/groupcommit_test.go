package groupcommit

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// collector commits by recording each batch.
type collector struct {
	mu      sync.Mutex
	batches [][]int
	hold    chan struct{} // when set, the first commit waits for it
}

func (c *collector) commit(batch []int) {
	c.mu.Lock()
	first := len(c.batches) == 0
	c.batches = append(c.batches, slices.Clone(batch))
	c.mu.Unlock()
	if first && c.hold != nil {
		<-c.hold
	}
}

func (c *collector) sizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, b := range c.batches {
		out = append(out, len(b))
	}
	return out
}

// TestQueue_requestsArrivingTogetherShareABatch is the regression test of
// batches of one: on one processor the goroutine that woke the writer ran
// it at once, before the other submitters had reached Submit.
func TestQueue_requestsArrivingTogetherShareABatch(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c := &collector{}
	q := Start(256, c.commit)
	defer q.Stop()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := q.Submit(t.Context(), i); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for sum(c.sizes()) < 20 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s := c.sizes(); sum(s) != 20 || s[0] < 2 {
		t.Fatalf("batch sizes %v for 20 updates submitted together; want the first batch to take more than the update that woke the writer", s)
	}
}

// TestQueue_waitingItemsShareOneBatchInOrder: items submitted while a
// batch commits wait and then go together, in submission order, bounded
// by max.
func TestQueue_waitingItemsShareOneBatchInOrder(t *testing.T) {
	c := &collector{hold: make(chan struct{})}
	q := Start(4, c.commit)
	defer q.Stop()
	if err := q.Submit(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	for len(c.sizes()) == 0 {
		time.Sleep(time.Millisecond)
	}
	// The writer is inside the first commit: submit 6 more, one after
	// the other so that their order is known.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= 6; i++ {
			if err := q.Submit(t.Context(), i); err != nil {
				t.Error(err)
			}
		}
	}()
	time.Sleep(20 * time.Millisecond) // the first of them waits in Submit
	close(c.hold)
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for sum(c.sizes()) < 7 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var all []int
	for _, b := range c.batches {
		if len(b) > 4 {
			t.Errorf("batch %v exceeds max 4", b)
		}
		all = append(all, b...)
	}
	if !slices.Equal(all, []int{0, 1, 2, 3, 4, 5, 6}) {
		t.Errorf("committed %v, want 0..6 in order", c.batches)
	}
}

func TestQueue_submitEndsWithTheContextOrTheQueue(t *testing.T) {
	c := &collector{hold: make(chan struct{})}
	q := Start(1, c.commit)
	if err := q.Submit(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	for len(c.sizes()) == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := q.Submit(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Submit while the writer is busy, past the deadline = %v, want DeadlineExceeded", err)
	}
	close(c.hold)
	q.Stop()
	if err := q.Submit(t.Context(), 3); !errors.Is(err, ErrStopped) {
		t.Errorf("Submit after Stop = %v, want ErrStopped", err)
	}
	if s := c.sizes(); !slices.Equal(s, []int{1}) {
		t.Errorf("batches %v, want only the first item committed", s)
	}
}

func sum(s []int) int {
	n := 0
	for _, v := range s {
		n += v
	}
	return n
}
