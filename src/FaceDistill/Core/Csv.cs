using System.Text;

namespace FaceDistill.Core;

/// <summary>
/// CSV as RFC 4180 has it: fields separated by commas, records by line breaks; a field holding a comma, a quote or a
/// line break is quoted, its quotes doubled. Every CSV FaceDistill writes goes through <see cref="Field"/>, and every
/// CSV it reads through <see cref="Records"/>, so a file name with a comma survives the round trip.
/// </summary>
public static class Csv
{
    /// <summary>A field as written: as it is, or quoted when it must be.</summary>
    public static string Field(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";

    /// <summary>A record; a record of one empty field is written <c>""</c> (an empty line would be no
    /// record).</summary>
    public static string Row(IEnumerable<string> fields)
    {
        var list = fields.ToList();
        return list is [""] ? "\"\"" : string.Join(',', list.Select(Field));
    }

    /// <summary>The records of a CSV text with the line number each starts on (1-based); blank lines are skipped. An
    /// unterminated quote is an error naming the file and the line.</summary>
    public static IEnumerable<(int Line, string[] Fields)> Records(string text, string fileForErrors)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1,
            start = 1;
        bool quoted = false,
            any = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                    quoted = false;
                else
                {
                    if (c == '\n')
                        line++;
                    field.Append(c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0:
                    quoted = true;
                    any = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    any = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    if (any || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        yield return (start, fields.ToArray());
                    }
                    fields.Clear();
                    field.Clear();
                    any = false;
                    line++;
                    start = line;
                    break;
                default:
                    field.Append(c);
                    any = true;
                    break;
            }
        }
        if (quoted)
            throw FaceDistillException.ForFile(fileForErrors, $"line {start}: a quoted field is not closed");
        if (any || field.Length > 0)
        {
            fields.Add(field.ToString());
            yield return (start, fields.ToArray());
        }
    }
}
