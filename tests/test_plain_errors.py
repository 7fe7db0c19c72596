"""Library connection errors read as what happened."""

from core.plain_errors import plain_error

REFUSED = ("connection error: GuardedHTTPPool(host='127.0.0.1', port=9): Max retries exceeded with url: /feed "
           "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3a>: Failed to "
           "establish a new connection: [Errno 111] Connection refused'))")


def test_a_refused_connection_names_host_and_port():
    assert plain_error(REFUSED) == "Could not connect to 127.0.0.1:9 (connection refused)"


def test_the_text_before_the_library_message_is_kept():
    message = ("https://news.example/: HTTPSConnectionPool(host='news.example', port=443): Max retries exceeded "
               "with url: / (Caused by NameResolutionError(\"Failed to resolve 'news.example'\"))")
    assert plain_error(message) == ("https://news.example/: Could not connect to news.example:443 "
                                    "(the host name could not be resolved)")


def test_other_messages_are_left_alone():
    assert plain_error("disallowed by robots.txt: https://a.example/x") == "disallowed by robots.txt: https://a.example/x"
    assert plain_error(None) == ""
