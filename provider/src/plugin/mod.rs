//! go-plugin transport: handshake, AutoMTLS, Unix socket, gRPC services, reattach, logging.
