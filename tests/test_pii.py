"""PII detection on crafted inputs: each kind found with its exact span, look-alikes left alone."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from core.refine.signals.pii import PII_SIGNAL_COLUMNS, PiiFinding, find_pii, pii_signals, redact_pii
from core.refine.signals.pii_checks import luhn_valid, valid_china_resident_id, valid_iban, valid_spanish_dni


def _found(text: str) -> list[tuple[str, str]]:
    return [(finding.kind, finding.value) for finding in find_pii(text)]


@pytest.mark.parametrize(("kind", "value", "template"), [
    ("email", "jane.doe@example.com", "Write to {} today."),
    ("email", "J_Smith+news@mail.example.co.uk", "({})"),
    ("phone", "(415) 555-2671", "Call {} now."),
    ("phone", "415-555-2671", "Desk: {}."),
    ("phone", "415.555.2671", "Reach us at {}."),
    ("phone", "415-555-2671 x204", "Office {}."),
    ("phone", "+1 415 555 2671", "US office {}."),
    ("phone", "001-415-555-2671", "From abroad dial {}."),
    ("phone", "+44 20 7946 0958", "London {}."),
    ("phone", "+44 (0)20 7946 0958", "London {}."),
    ("phone", "(+44) 20 7946 0958", "London {}."),
    ("phone", "+7 (495) 123-45-67", "Moscow {}."),
    ("phone", "020 7946 0958", "London {}."),
    ("phone", "07700 900123", "Mobile {}."),
    ("phone", "+33 6 12 34 56 78", "Paris {}."),
    ("phone", "06 12 34 56 78", "Paris {}."),
    ("phone", "030 12345678", "Berlin {}."),
    ("phone", "030/1234567", "Berlin {}."),
    ("phone", "+49 (0)30 1234567", "Berlin {}."),
    ("phone", "+91 98765 43210", "Delhi {}."),
    ("phone", "02 9374 4000", "Sydney {}."),
    ("phone", "2125550198", "Phone: {}"),
    ("card", "4111 1111 1111 1111", "Paid with {}."),
    ("card", "5555-5555-5555-4444", "Card {} declined."),
    ("card", "378282246310005", "Amex {}."),
    ("card", "3782 822463 10005", "Amex {}."),
    ("card", "6011111111111117", "Discover {}."),
    ("card", "4111.1111.1111.1111", "Visa {}."),
    ("iban", "DE89 3704 0044 0532 0130 00", "Pay to {} by Friday."),
    ("iban", "GB82WEST12345698765432", "IBAN: {}"),
    ("iban", "FR14 2004 1010 0505 0001 3M02 606", "IBAN {}."),
    ("ip", "192.168.1.10", "Server {} is down."),
    ("ip", "8.8.8.8", "DNS ({}) answered."),
    ("ip", "2001:db8:85a3::8a2e:370:7334", "Host {}."),
    ("ip", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "Host {}."),
    ("ip", "fe80::1ff:fe23:4567:890a", "Link-local {}."),
    ("national_id", "123-45-6789", "SSN {} on file."),
    ("national_id", "078051120", "SSN: {}"),
    ("national_id", "AB 12 34 56 C", "NINO {}."),
    ("national_id", "CE123456D", "NI number {}."),
    ("national_id", "12345678Z", "DNI {}."),
    ("national_id", "X1234567L", "NIE {}."),
    ("national_id", "11010519491231002X", "身份证 {}。"),
])
def test_each_kind_found_with_exact_span(kind, value, template):
    text = template.format(value)
    findings = find_pii(text)
    assert [(finding.kind, finding.value) for finding in findings] == [(kind, value)]
    start = text.index(value)
    assert (findings[0].start, findings[0].end) == (start, start + len(value))


@pytest.mark.parametrize("text", [
    "The meeting is on 2024-03-15, or 15/03/2024, or 03.15.2024, or 15.03.2024.",
    "It starts at 14:30 and ends at 9:30 pm; the timer read 12:30:45.",
    "Prices: $1,299.99, €12.50, 1.299,00 €, 2 450 000 euros and 12,500,000 dollars.",
    "Growth was 12.5% and +3.2% last year; 99.9% uptime.",
    "ISBN 978-3-16-148410-0 and ISBN 0-306-40615-2 and ISBN-13: 9780306406157.",
    "Order #4839201847561234 and order number 4111111111111112 failed the Luhn check.",
    "Order 4539 1488 0343 6467 shipped.",
    "Invoice 1234567890123 paid; ref 2024-0001234.",
    "Running version 1.2.3, v10.0.19045.3693, build 10.0.0.1 and Chrome 120.0.6099.109.",
    "Tracking 1Z999AA10123456784 and 9400 1000 0000 0000 0000 00 and tracking #: 9400111899223197428490.",
    "Postcodes SW1A 1AA, EC1A 1BB, K1A 0B1, ZIP 90210, ZIP 02905-4781 and 10115 Berlin.",
    "1 Beacon St, Boston, MA 02108-1234 and Newark, NJ 07102-3307, USA.",
    "Population 8,336,817 in 2023; between 1990 and 2000; score 3-1; pages 123-145.",
    "Coordinates 51.5074, -0.1278; part no. 1234-5678-9012; room 3-2-1.",
    "Serial numbers 1 2 3 4 5 6 7 8 and the year 2024.",
    "Not a NINO: QQ123456C (reserved example prefix), BG 12 34 56 A.",
    "SSN-like but invalid: 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567.",
    "Not an IBAN: DE89 3704 0044 0532 0130 01 nor GB00WEST12345698765432.",
    "C++ uses std::vector and a::b; MAC 00:1A:2B:3C:4D:5E.",
    "Version 1.0.0.1 is out.",
])
def test_look_alikes_are_not_flagged(text):
    assert _found(text) == []


def test_adjacent_ibans_in_any_case_are_both_found():
    text = "IBAN: de89 3704 0044 0532 0130 00 and NL91ABNA0417164300, GB82 WEST 1234 5698 7654 32 IN CASH"
    assert _found(text) == [("iban", "de89 3704 0044 0532 0130 00"), ("iban", "NL91ABNA0417164300"),
                            ("iban", "GB82 WEST 1234 5698 7654 32")]


def test_card_number_is_not_also_a_phone():
    assert _found("Call 4111 1111 1111 1111 now") == [("card", "4111 1111 1111 1111")]
    assert _found("Tel 4111-1111-1111-1111") == [("card", "4111-1111-1111-1111")]


def test_several_findings_in_order_and_redaction():
    text = ("Contact jane@example.com or +44 20 7946 0958. Card 4111 1111 1111 1111, "
            "IBAN DE89 3704 0044 0532 0130 00, from 10.0.0.7, SSN 123-45-6789.")
    findings = find_pii(text)
    assert [finding.kind for finding in findings] == ["email", "phone", "card", "iban", "ip", "national_id"]
    assert all(text[finding.start:finding.end] == finding.value for finding in findings)
    expected = "Contact [EMAIL] or [PHONE]. Card [CARD], IBAN [IBAN], from [IP], SSN [NATIONAL_ID]."
    assert redact_pii(text) == expected
    assert redact_pii(text, findings) == expected
    assert redact_pii(text, []) == text


def test_redaction_with_hand_made_overlapping_findings_keeps_the_first():
    text = "call 020 7946 0958"
    findings = [PiiFinding("phone", 5, 18, "020 7946 0958"), PiiFinding("national_id", 9, 13, "7946")]
    assert redact_pii(text, findings) == "call [PHONE]"


@pytest.mark.parametrize("text", ["", "word", "😀😀😀", "Привет, мир! 你好世界。 مرحبا بالعالم"])
def test_texts_without_pii(text):
    assert find_pii(text) == []
    assert redact_pii(text) == text


def test_mixed_scripts_keep_correct_offsets():
    text = "联系人：王伟，邮箱 wang.wei@example.cn，电话 +86 138 0013 8000。Привет 8.8.4.4"
    assert _found(text) == [("email", "wang.wei@example.cn"), ("phone", "+86 138 0013 8000"),
                            ("ip", "8.8.4.4")]
    assert redact_pii(text) == "联系人：王伟，邮箱 [EMAIL]，电话 [PHONE]。Привет [IP]"


def test_five_megabytes_of_one_line_finishes_fast():
    plain = "Updated 2024-03-15 at 14:30, price $1,299.99, 12.5% off, ISBN 978-3-16-148410-0.\n" * 62_000
    started = time.perf_counter()
    assert len(plain) > 5_000_000 and find_pii(plain) == []
    assert time.perf_counter() - started < 30
    dense = "Mail jane@example.com or call 020 7946 0958.\n" * 5_000
    findings = find_pii(dense)
    assert len(findings) == 10_000
    assert redact_pii(dense, findings) == "Mail [EMAIL] or call [PHONE].\n" * 5_000


def test_pii_signals_columns_counts_and_spans():
    texts = pd.Series(["Mail a.b@example.com or b.c@example.org, call (415) 555-2671.", "", None,
                       float("nan"),
                       "Card 4111 1111 1111 1111, IBAN GB82WEST12345698765432 from 8.8.8.8, NINO AB123456C"],
                      index=["x", "y", "z", "w", "v"])
    signals = pii_signals(texts)
    assert list(signals.columns) == list(PII_SIGNAL_COLUMNS)
    assert list(signals.index) == ["x", "y", "z", "w", "v"]
    assert signals["pii_count"].tolist() == [3, 0, 0, 0, 4]
    assert signals["pii_email"].tolist() == [2, 0, 0, 0, 0]
    assert signals["pii_phone"].tolist() == [1, 0, 0, 0, 0]
    assert signals.loc["v", ["pii_card", "pii_iban", "pii_ip", "pii_national_id"]].tolist() == [1, 1, 1, 1]
    spans = json.loads(signals.loc["x", "pii_spans"])
    assert spans == [["email", 5, 20], ["email", 24, 39], ["phone", 46, 60]]
    assert json.loads(signals.loc["y", "pii_spans"]) == []
    empty = pii_signals(pd.Series([], dtype=object))
    assert list(empty.columns) == list(PII_SIGNAL_COLUMNS) and empty.empty


def test_checksums():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert valid_iban("DE89370400440532013000") and not valid_iban("DE89370400440532013001")
    assert not valid_iban("DE8937040044053201300"), "wrong length for Germany"
    assert valid_spanish_dni("12345678", "Z") and not valid_spanish_dni("12345678", "A")
    assert valid_china_resident_id("11010519491231002X") and not valid_china_resident_id("110105194912310021")
