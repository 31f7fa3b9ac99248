//! Loopback fakes of Instagram and the Telegram Bot API, and helpers shared by the integration tests.
