# The gVisor-derived Go netstack (inet.af/netstack, Debian's golang-inet-netstack-dev,
# snapshot 2021-11-20) as synfin judges it through shims/netstack/. Figures are the
# package's own constants (tcpip/transport/tcp): read, not guessed.
profile netstack
summary "RFC 9293 with gVisor netstack's timers (2MSL 60 s, RTO 1 s initial, 200 ms floor)"
base rfc9293
# protocol.go: DefaultTCPTimeWaitTimeout = 60 s (TIME-WAIT lasts 60 s, an MSL of 30 s)
2msl 60s
# snd.go: MinRTO = 200 ms; connect.go: InitialRTO = 1 s (real time: allow 3 s for one)
rto-min 200ms
rto-must 4s
# protocol.go: DefaultTCPLingerTimeout = 60 s (an orphan leaves FIN-WAIT-2 after 60 s)
fin2-timeout 60s
# rcv.go handleTimeWaitSegment: "silently drop any RST packets in TIME_WAIT ... also
# default Linux behavior" - the RFC 1337 choice, made on purpose.
flag rfc1337
