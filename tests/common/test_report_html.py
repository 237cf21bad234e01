"""The report page's HTML helpers: tables over whatever fields rows have, everything escaped, one page."""

from nnscratch.common.report_html import Section, cell, figure, paragraph, render_page, table, write_page


def test_a_table_has_a_column_for_every_field_of_its_rows_in_the_order_they_first_appear():
    rows = [{"layer": "0", "flops": 1200}, {"layer": "1", "flops": 5, "memory": 2.5}]
    html = table(rows)
    assert html.index("<th>layer</th>") < html.index("<th>flops</th>") < html.index("<th>memory</th>")
    assert '<td class="number">1,200</td><td></td>' in html  # a field a row lacks is an empty cell
    assert '<td>1</td><td class="number">5</td><td class="number">2.5</td>' in html  # numbers align right


def test_values_are_shown_the_way_a_reader_expects():
    assert [cell(v) for v in (None, True, 12345, 0.000123456, (1, 28, 28), "x")] == [
        "",
        "True",
        "12,345",
        "0.0001235",
        "1x28x28",
        "x",
    ]


def test_every_text_is_escaped():
    page = render_page(
        "<b>run</b>",
        [Section("a&b", "t<i>", paragraph("<script>alert(1)</script>") + figure('x".png', "<caption>"))],
    )
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<title>&lt;b&gt;run&lt;/b&gt;</title>" in page
    assert 'src="x&quot;.png"' in page and 'id="a&amp;b"' in page


def test_the_page_links_to_each_section_and_is_written_whole(tmp_path):
    page = render_page("r", [Section("one", "One", paragraph("1")), Section("two", "Two", paragraph("2"))])
    assert '<a href="#one">One</a> <a href="#two">Two</a>' in page
    assert page.index('<section id="one">') < page.index('<section id="two">')
    path = write_page(tmp_path / "index.html", page)
    assert path.read_text(encoding="utf-8") == page
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]  # no temporary file left beside it
