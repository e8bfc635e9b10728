// synfin-shim-netstack: the gVisor-derived Go netstack (Debian's golang-inet-netstack-dev,
// inet.af/netstack) behind the synfin control protocol, version 1 (docs/exec-protocol.md),
// for `synfin run --target exec:PATH/synfin-shim-netstack`.
//
// It speaks the protocol from its document alone, without synfin's C codec: the framing
// below is the whole of it. Every case gets a fresh stack (RESET builds a new one, so no
// connection of an earlier case survives and nothing is sent on its behalf), one NIC on a
// channel link endpoint with 192.0.2.1/24, the peer 192.0.2.2. Injected packets go to the
// NIC as if a driver had received them; a goroutine forwards everything the stack writes
// to its link endpoint as EMIT frames the moment it appears.
//
// netstack runs its TCP on goroutines and real timers, so the shim announces no VTIME:
// synfin lets real time pass for waits. SYNC answers once the stack has been quiet for a
// short while (settle below). The state comes from the endpoint registered for the case's
// port pair (handshakes in SYN-RECEIVED included), or LISTEN while only the listener is
// there. The profile is netstack.profile beside the executable (tools/build-netstack.sh
// puts it there).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"inet.af/netstack/tcpip"
	"inet.af/netstack/tcpip/buffer"
	"inet.af/netstack/tcpip/link/channel"
	"inet.af/netstack/tcpip/network/ipv4"
	"inet.af/netstack/tcpip/stack"
	"inet.af/netstack/tcpip/transport/tcp"
	"inet.af/netstack/waiter"
)

// Message types and fields (docs/exec-protocol.md, section 2).
const (
	tHello   = 0x01
	tReset   = 0x02
	tOpen    = 0x03
	tCall    = 0x04
	tAdvance = 0x05
	tState   = 0x06
	tInject  = 0x07
	tSync    = 0x08
	tBye     = 0x09
	tReply   = 0x80
	tEmit    = 0x81

	stOK      = 0
	stRefused = 1
	stError   = 2

	capState   = 0x01
	capPassive = 0x04
	capActive  = 0x08

	callListen, callConnect, callAccept, callSend, callReceive = 0, 1, 2, 3, 4
	callShutdown, callClose, callAbort                         = 5, 6, 7

	stateUnknown = 255
)

const (
	targetIP  = "\xc0\x00\x02\x01"     // 192.0.2.1
	peerIP    = "\xc0\x00\x02\x02"     // 192.0.2.2
	settle    = 30 * time.Millisecond  // quiet this long: the stack has done what it will
	settleMax = 500 * time.Millisecond // SYNC answers by then whatever happens
)

// ---- framing ----

type wire struct {
	mu sync.Mutex // EMITs come from the link goroutine, REPLYs from the main one
	w  *bufio.Writer
	r  *bufio.Reader
}

func (c *wire) send(typ byte, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(body)+1))
	hdr[4] = typ
	c.w.Write(hdr[:])
	c.w.Write(body)
	if err := c.w.Flush(); err != nil {
		os.Exit(0) // synfin went away
	}
}

func (c *wire) reply(req, status byte, value uint32, code int32, why string, tail []byte) {
	b := make([]byte, 10, 10+len(why)+len(tail)+2)
	b[0], b[1] = req, status
	binary.BigEndian.PutUint32(b[2:], value)
	binary.BigEndian.PutUint32(b[6:], uint32(code))
	if status != stOK {
		b = appendStr(b, why)
	}
	c.send(tReply, append(b, tail...))
}

func appendStr(b []byte, s string) []byte {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	b = append(b, byte(len(s)>>8), byte(len(s)))
	return append(b, s...)
}

// next returns the next request's type and body; io.EOF at the end of the stream.
func (c *wire) next() (byte, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > 65536 {
		return 0, nil, fmt.Errorf("frame length %d", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return 0, nil, err
	}
	return b[0], b[1:], nil
}

// ---- the stack of one case ----

type tcase struct {
	s        *stack.Stack
	link     *channel.Endpoint
	done     chan struct{}
	listener tcpip.Endpoint
	conn     tcpip.Endpoint // the application's connection (nil before accept/connect)
	closed   bool           // the application closed it: no handle left
	role     byte
	tport    uint16
	pport    uint16
	sent     uint64 // octets SEND accepted so far: the pattern continues from here
}

var (
	bgctx     = context.Background()
	out       wire
	cur       *tcase
	lastEmit  atomic.Int64 // unix ns of the last packet the stack wrote
	dropEmits atomic.Bool  // while a stack is torn down: what it sends is not a case's
)

func newCase(caseNo uint32, role byte) (*tcase, error) {
	c := &tcase{role: role, done: make(chan struct{})}
	c.tport = uint16(10000 + caseNo%20000)
	c.pport = uint16(40000 + caseNo%20000)
	c.s = stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	c.link = channel.New(1024, 1500, "")
	if err := c.s.CreateNIC(1, c.link); err != nil {
		return nil, fmt.Errorf("CreateNIC: %v", err)
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: targetIP, PrefixLen: 24}}
	if err := c.s.AddProtocolAddress(1, pa, stack.AddressProperties{}); err != nil {
		return nil, fmt.Errorf("AddProtocolAddress: %v", err)
	}
	c.s.SetRouteTable([]tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: 1}})
	go c.forward()
	return c, nil
}

// forward EMITs every packet the stack writes, until the link endpoint is closed.
func (c *tcase) forward() {
	defer close(c.done)
	for {
		pi, ok := c.link.ReadContext(bgctx)
		if !ok || pi.Pkt == nil { // closed (a closed queue reads as an empty packet)
			return
		}
		var b []byte
		for _, v := range pi.Pkt.Views() {
			b = append(b, v...)
		}
		lastEmit.Store(time.Now().UnixNano())
		if !dropEmits.Load() {
			out.send(tEmit, b)
		}
	}
}

func (c *tcase) destroy() {
	dropEmits.Store(true)
	c.s.Close()
	c.s.Wait()
	c.link.Close()
	<-c.done
	dropEmits.Store(false)
}

// quiet waits until the stack has written nothing for `settle` (at most settleMax). The
// shim runs on one P (GOMAXPROCS 1, set in main), so yielding before each look lets every
// goroutine the last request woke run first: a process the OS left waiting for longer
// than `settle` does not read as a quiet stack.
func quiet() {
	start := time.Now()
	for time.Since(start) < settleMax {
		time.Sleep(settle / 3)
		for i := 0; i < 64; i++ {
			runtime.Gosched()
		}
		if time.Since(time.Unix(0, lastEmit.Load())) >= settle &&
			time.Since(start) >= settle {
			return
		}
	}
}

func (c *tcase) endpoint() tcpip.Endpoint {
	for _, e := range c.s.RegisteredEndpoints() {
		ep, ok := e.(tcpip.Endpoint)
		if !ok {
			continue
		}
		info, ok := ep.Info().(*stack.TransportEndpointInfo)
		if ok && info.ID.LocalPort == c.tport && info.ID.RemotePort == c.pport {
			return ep
		}
	}
	return nil
}

func mapState(s tcp.EndpointState) uint32 {
	switch s {
	case tcp.StateEstablished:
		return 4
	case tcp.StateSynSent, tcp.StateConnecting:
		return 2
	case tcp.StateSynRecv:
		return 3
	case tcp.StateFinWait1:
		return 5
	case tcp.StateFinWait2:
		return 6
	case tcp.StateTimeWait:
		return 10
	case tcp.StateCloseWait:
		return 7
	case tcp.StateLastAck:
		return 9
	case tcp.StateClosing:
		return 8
	case tcp.StateListen:
		return 1
	case tcp.StateClose, tcp.StateError, tcp.StateInitial, tcp.StateBound:
		return 0
	}
	return stateUnknown
}

func (c *tcase) state() uint32 {
	if ep := c.endpoint(); ep != nil {
		return mapState(tcp.EndpointState(ep.State()))
	}
	if c.conn != nil { // no longer registered: gone
		st := mapState(tcp.EndpointState(c.conn.State()))
		if st != 0 && st != stateUnknown {
			return st
		}
		return 0
	}
	if c.listener != nil {
		return 1
	}
	return 0
}

// take returns the application's connection, accepting it from the listener first in
// the passive role (the listener is closed then: one connection per case).
func (c *tcase) take() tcpip.Endpoint {
	if c.conn == nil && c.listener != nil {
		ep, _, err := c.listener.Accept(nil)
		if err != nil {
			return nil
		}
		c.conn = ep
		c.listener.Close()
		c.listener = nil
	}
	if c.closed {
		return nil
	}
	return c.conn
}

func pattern(from uint64, n uint32) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (from+uint64(i))%26)
	}
	return b
}

// call performs one user call: status, value, the stack's error text.
func (c *tcase) call(call byte, arg uint32) (byte, uint32, string) {
	switch call {
	case callListen:
		if c.listener != nil {
			return stOK, 0, "" // the passive OPEN listens already
		}
		if c.conn != nil {
			st := tcp.EndpointState(c.conn.State())
			if st != tcp.StateClose && st != tcp.StateError && st != tcp.StateInitial {
				return stRefused, 0, "connection exists"
			}
			c.conn.Close() // a connection that is gone: listen anew on its port
			c.conn, c.closed = nil, false
		}
		save := c.role
		c.role = 0
		err := c.open()
		c.role = save
		if err != nil {
			return stRefused, 0, err.Error()
		}
		return stOK, 0, ""
	case callConnect:
		if c.conn == nil {
			return stRefused, 0, "no endpoint to connect"
		}
		err := c.conn.Connect(tcpip.FullAddress{NIC: 1, Addr: peerIP, Port: c.pport})
		if _, started := err.(*tcpip.ErrConnectStarted); err != nil && !started {
			return stRefused, 0, err.String()
		}
		return stOK, 0, ""
	case callAccept:
		if c.take() == nil {
			return stRefused, 0, "no connection to accept"
		}
		return stOK, 0, ""
	}
	ep := c.take()
	if ep == nil {
		return stRefused, 0, "no connection"
	}
	switch call {
	case callSend:
		n, err := ep.Write(bytes.NewReader(pattern(c.sent, arg)), tcpip.WriteOptions{})
		if err != nil {
			if _, wb := err.(*tcpip.ErrWouldBlock); wb {
				return stOK, 0, ""
			}
			return stRefused, 0, err.String()
		}
		c.sent += uint64(n)
		return stOK, uint32(n), ""
	case callReceive:
		var sink bytes.Buffer
		limit := int64(arg)
		if arg == 0 {
			limit = 1 << 30
		}
		res, err := ep.Read(&limitedWriter{&sink, limit}, tcpip.ReadOptions{})
		if err != nil {
			switch err.(type) {
			case *tcpip.ErrWouldBlock, *tcpip.ErrClosedForReceive:
				return stOK, 0, ""
			}
			return stRefused, 0, err.String()
		}
		return stOK, uint32(res.Count), ""
	case callShutdown:
		if err := ep.Shutdown(tcpip.ShutdownWrite); err != nil {
			return stRefused, 0, err.String()
		}
		return stOK, 0, ""
	case callClose:
		ep.Close()
		c.closed = true
		return stOK, 0, ""
	case callAbort:
		ep.Abort()
		c.closed = true
		return stOK, 0, ""
	}
	return stError, 0, "unknown call"
}

// limitedWriter takes at most n octets (Read then leaves the rest queued).
type limitedWriter struct {
	w *bytes.Buffer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

func (c *tcase) open() error {
	var wq waiter.Queue
	ep, err := c.s.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if err != nil {
		return fmt.Errorf("NewEndpoint: %v", err)
	}
	if err := ep.Bind(tcpip.FullAddress{NIC: 1, Addr: targetIP, Port: c.tport}); err != nil {
		return fmt.Errorf("Bind: %v", err)
	}
	if c.role == 0 {
		if err := ep.Listen(16); err != nil {
			return fmt.Errorf("Listen: %v", err)
		}
		c.listener = ep
	} else {
		c.conn = ep
	}
	return nil
}

// ---- the request loop ----

func main() {
	runtime.GOMAXPROCS(1)
	out.w = bufio.NewWriter(os.Stdout)
	out.r = bufio.NewReader(os.Stdin)
	profile := ""
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "netstack.profile")
		if _, err := os.Stat(p); err == nil {
			profile = p
		}
	}
	for {
		typ, body, err := out.next()
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "synfin-shim-netstack: %v\n", err)
			os.Exit(2)
		}
		switch typ {
		case tHello:
			tail := []byte{0, 1, 0, 0, 0, capState | capPassive | capActive}
			tail = appendStr(tail, "gVisor netstack (inet.af/netstack 2021-11-20, Go)")
			tail = appendStr(tail, profile)
			out.reply(tHello, stOK, 0, 0, "", tail)
		case tReset:
			if cur != nil {
				cur.destroy()
				cur = nil
			}
			out.reply(tReset, stOK, 0, 0, "", nil)
		case tOpen:
			if len(body) < 6 {
				out.reply(tOpen, stError, 0, 0, "short OPEN", nil)
				continue
			}
			c, err := newCase(binary.BigEndian.Uint32(body), body[4])
			if err == nil {
				err = c.open()
			}
			if err != nil {
				out.reply(tOpen, stError, 0, 0, err.Error(), nil)
				continue
			}
			cur = c
			ep := make([]byte, 12)
			copy(ep[0:4], peerIP)
			copy(ep[4:8], targetIP)
			binary.BigEndian.PutUint16(ep[8:], c.pport)
			binary.BigEndian.PutUint16(ep[10:], c.tport)
			out.reply(tOpen, stOK, 0, 0, "", ep)
		case tCall:
			if cur == nil || len(body) != 5 {
				out.reply(tCall, stError, 0, 0, "CALL outside a case", nil)
				continue
			}
			st, v, why := cur.call(body[0], binary.BigEndian.Uint32(body[1:]))
			out.reply(tCall, st, v, 0, why, nil)
		case tState:
			st := uint32(0)
			if cur != nil {
				st = cur.state()
			}
			out.reply(tState, stOK, st, 0, "", nil)
		case tInject:
			if cur != nil {
				pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
					Data: buffer.NewViewFromBytes(body).ToVectorisedView()})
				cur.link.InjectInbound(ipv4.ProtocolNumber, pkt)
			}
			out.reply(tInject, stOK, 0, 0, "", nil)
		case tSync:
			quiet()
			out.reply(tSync, stOK, 0, 0, "", nil)
		case tBye:
			out.reply(tBye, stOK, 0, 0, "", nil)
			return
		case tAdvance:
			out.reply(tAdvance, stError, 0, 0, "no virtual time", nil)
		default:
			fmt.Fprintf(os.Stderr, "synfin-shim-netstack: request type 0x%02x\n", typ)
			os.Exit(2)
		}
	}
}
