using System.Net;
using System.Text;

namespace FaceDistill.Runs;

/// <summary>
/// A self-contained HTML page: inline CSS, images as data URIs, no scripts but one inline check that marks the body
/// when every image has decoded (<c>data-images-ok</c>, what the browser test reads), no external fonts — it opens
/// offline, from a mail attachment as well as from disk.
/// </summary>
public sealed class HtmlPage(string title)
{
    private readonly StringBuilder _body = new();

    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;
        color:#222}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
        table{border-collapse:collapse;margin:.8em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.25em .6em}
        th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
        pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.85em;max-height:32em}
        img{max-width:100%;height:auto;margin:.4em 0}.figs{display:flex;flex-wrap:wrap;gap:1em}
        .figs figure{margin:0}figcaption{font-size:.85em;color:#555}code{background:#f3f3f3;padding:0 .2em}
        """;

    private const string ImageCheck = """
        window.addEventListener('load',function(){var ok=Array.prototype.every.call(document.images,
        function(i){return i.complete&&i.naturalWidth>0});document.body.setAttribute('data-images-ok',ok?'yes':'no');});
        """;

    public static string E(string s) => WebUtility.HtmlEncode(s);

    public HtmlPage Heading(string text, int level = 2)
    {
        _body.Append($"<h{level}>{E(text)}</h{level}>\n");
        return this;
    }

    public HtmlPage Paragraph(string text)
    {
        _body.Append($"<p>{E(text)}</p>\n");
        return this;
    }

    /// <summary>Raw HTML the caller built (and escaped).</summary>
    public HtmlPage Raw(string html)
    {
        _body.Append(html).Append('\n');
        return this;
    }

    public HtmlPage Code(string text)
    {
        _body.Append($"<pre>{E(text)}</pre>\n");
        return this;
    }

    /// <summary>A table; cells that parse as numbers are right-aligned.</summary>
    public HtmlPage Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var sb = new StringBuilder("<table>");
        if (header.Any(h => h.Length > 0))
        {
            sb.Append("<thead><tr>");
            foreach (var h in header)
                sb.Append($"<th>{E(h)}</th>");
            sb.Append("</tr></thead>");
        }
        sb.Append("<tbody>\n");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            foreach (var cell in row)
                sb.Append(IsNumeric(cell) ? $"<td class=\"num\">{E(cell)}</td>" : $"<td>{E(cell)}</td>");
            sb.Append("</tr>\n");
        }
        _body.Append(sb).Append("</tbody></table>\n");
        return this;
    }

    private static bool IsNumeric(string cell) =>
        cell.Length > 0 && (char.IsDigit(cell[0]) || cell[0] is '-' or '−' or '.') && cell.Any(char.IsDigit);

    /// <summary>Figures side by side (PNG bytes, each with a caption).</summary>
    public HtmlPage Figures(IEnumerable<(string Caption, byte[] Png)> figures)
    {
        _body.Append("<div class=\"figs\">");
        foreach (var (caption, png) in figures)
            _body.Append(
                $"<figure><img alt=\"{E(caption)}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\">"
                    + $"<figcaption>{E(caption)}</figcaption></figure>"
            );
        _body.Append("</div>\n");
        return this;
    }

    public string Render() =>
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        + $"<meta name=\"viewport\" content=\"width=device-width\"><title>{E(title)}</title><style>{Style}</style>"
        + $"<script>{ImageCheck}</script></head>\n<body>\n<h1>{E(title)}</h1>\n{_body}</body></html>\n";
}
