"""harvester.markup: inline markup and MathML in PubMed XML -> readable plain text."""

from __future__ import annotations

import pytest
from lxml import etree

from harvester.markup import element_text, mathml_text, normalize_space, strip_markup

MML = 'xmlns:mml="http://www.w3.org/1998/Math/MathML"'


def el(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8"))


@pytest.mark.parametrize(("xml", "expected"), [
    ("<t>plain</t>", "plain"),
    ("<t>  spaced \n  out\t</t>", "spaced out"),
    ("<t>CO<sub>2</sub> levels</t>", "CO2 levels"),
    ("<t>10<sup>-3</sup> M</t>", "10-3 M"),
    ("<t>km·h<sup>-1</sup>; r<sup>2</sup> = 0.8</t>", "km·h-1; r2 = 0.8"),
    # text around the tags keeps its own spaces, none added or lost
    ('<t>A "<i>Blood Relationship"</i> Between</t>', 'A "Blood Relationship" Between'),
    ("<t>the <i>TERT</i> gene</t>", "the TERT gene"),
    ("<t><i>CACNA1C</i>-Related Disorders</t>", "CACNA1C-Related Disorders"),
    ("<t><b>Bold</b> and <u>under</u>lined</t>", "Bold and underlined"),
    ("<t>nested <i>ital <b>bold</b> ital</i> end</t>", "nested ital bold ital end"),
    ("<t>GeneReviews<sup>®</sup></t>", "GeneReviews®"),
    # PubMed writes "less than or equal" as an underlined "<"
    ("<t>(0.4-<u>&lt;</u>4.5 mIU/L)</t>", "(0.4-≤4.5 mIU/L)"),
    ("<t>dose <u>&gt;</u> 5</t>", "dose ≥ 5"),
    ("<t>no\u00a0break</t>", "no break"),
    ("<t><!-- a comment -->kept</t>", "kept"),
])
def test_element_text(xml: str, expected: str) -> None:
    assert element_text(el(xml)) == expected


def test_empty_elements_are_none() -> None:
    assert element_text(el("<t/>")) is None
    assert element_text(el("<t>   </t>")) is None
    assert element_text(el("<t><i> </i></t>")) is None
    assert element_text(None) is None


def test_mathml_pretty_printed_msub_ignores_layout_whitespace() -> None:
    # shape of biopython pubmed6.xml (30108519): V with a dot over it, O, subscript 2max
    xml = f"""<t>uptake ( <mml:math {MML}>
        <mml:msub>
            <mml:mrow>
                <mml:mover><mml:mrow><mml:mi>V</mml:mi></mml:mrow><mml:mo>.</mml:mo></mml:mover>
                <mml:mi>O</mml:mi>
            </mml:mrow>
            <mml:mrow><mml:mn>2</mml:mn><mml:mi>m</mml:mi><mml:mi>a</mml:mi><mml:mi>x</mml:mi></mml:mrow>
        </mml:msub>
        <mml:mtext> </mml:mtext>
    </mml:math> ) 67.6</t>"""
    assert element_text(el(xml)) == "uptake ( VO2max ) 67.6"


def test_mathml_prescripts_come_first() -> None:
    # shape of biopython pubmed7.xml (29963580): 3He / 129Xe written with mmultiscripts
    xml = f"""<t>inhaled <mml:math {MML}><mml:mrow>
      <mml:mmultiscripts><mml:mrow><mml:mi>He</mml:mi></mml:mrow><mml:mprescripts/><mml:none/>
        <mml:mrow><mml:mn>3</mml:mn></mml:mrow></mml:mmultiscripts>
      <mml:mo>/</mml:mo>
      <mml:mmultiscripts><mml:mi>Xe</mml:mi><mml:mprescripts/><mml:none/><mml:mn>129</mml:mn>
      </mml:mmultiscripts><mml:mtext> </mml:mtext><mml:mi>MRI</mml:mi></mml:mrow></mml:math> ventilation</t>"""
    assert element_text(el(xml)) == "inhaled 3He/129Xe MRI ventilation"


def test_mathml_alttext_wins() -> None:
    xml = f'<t>a <mml:math {MML} alttext="x^2 + 1"><mml:msup><mml:mi>x</mml:mi><mml:mn>2</mml:mn></mml:msup></mml:math> b</t>'
    assert element_text(el(xml)) == "a x^2 + 1 b"


def test_mathml_default_namespace_fraction_and_root() -> None:
    xml = ('<t><math xmlns="http://www.w3.org/1998/Math/MathML"><mfrac><mi>a</mi><mi>b</mi></mfrac>'
           '<mo>+</mo><msqrt><mi>x</mi></msqrt></math></t>')
    assert element_text(el(xml)) == "a/b+√(x)"


def test_mathml_semantics_uses_presentation_not_annotation() -> None:
    xml = (f'<mml:math {MML}><mml:semantics><mml:mi>y</mml:mi>'
           '<mml:annotation encoding="TeX">y</mml:annotation></mml:semantics></mml:math>')
    assert mathml_text(el(xml)) == "y"


def test_strip_markup_on_strings() -> None:
    assert strip_markup("CO<sub>2</sub> and <i>E. coli</i>") == "CO2 and E. coli"
    assert strip_markup('A "<i>Blood Relationship"</i> Between') == 'A "Blood Relationship" Between'
    assert strip_markup("  plain   text ") == "plain text"
    assert strip_markup("") is None
    assert strip_markup(None) is None
    # not well-formed: tags removed textually, HTML entities decoded
    assert strip_markup("a <b>bold &nbsp;claim") == "a bold claim"
    assert strip_markup("x &lt; y") == "x < y"


def test_normalize_space() -> None:
    assert normalize_space(" a\n\tb  c ") == "a b c"
    assert normalize_space(None) == ""
