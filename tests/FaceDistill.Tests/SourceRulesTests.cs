using System.Text.RegularExpressions;

namespace FaceDistill.Tests;

/// <summary>Rules of the source tree and its map: lines ≤ 120 columns, and every file the docs name exists.</summary>
public class SourceRulesTests
{
    private static IEnumerable<string> Sources(string root) =>
        new[] { "src", "tests", "bench" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f =>
                !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
            );

    [Fact]
    public void NoSourceLineIsLongerThan120Columns()
    {
        var root = RepoPaths.Root();
        var longLines = Sources(root)
            .SelectMany(f => File.ReadAllLines(f).Select((l, i) => (f, i, l)))
            .Where(t => t.l.Length > 120)
            .Select(t => $"{Path.GetRelativePath(root, t.f)}:{t.i + 1} ({t.l.Length})")
            .ToList();
        Assert.True(longLines.Count == 0, "lines over 120 columns:\n" + string.Join("\n", longLines.Take(20)));
    }

    [Fact]
    public void EveryFileTheDocsNameExists()
    {
        var root = RepoPaths.Root();
        var docs = Directory
            .EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories)
            .Append(Path.Combine(root, "README.md"));
        var missing = new List<string>();
        var path = new Regex(@"(?<![\w./-])((?:src|tests|bench|configs|scripts|docs)/[\w./+-]*\w)");
        foreach (var doc in docs)
        foreach (Match m in path.Matches(File.ReadAllText(doc)))
        {
            var p = m.Groups[1].Value;
            if (p.Contains('*') || p.Contains("<"))
                continue;
            if (!File.Exists(Path.Combine(root, p)) && !Directory.Exists(Path.Combine(root, p)))
                missing.Add($"{Path.GetRelativePath(root, doc)}: {p}");
        }
        Assert.True(missing.Count == 0, "named but missing:\n" + string.Join("\n", missing.Distinct()));
    }

    /// <summary>A doc may name a source file by its name alone (<c>GroupedKd.cs</c>) or by a path inside the library
    /// (<c>Distillation/GroupedKd.cs</c>); either must be a file of the repository. Markdown links to other pages
    /// must resolve from the page that holds them.</summary>
    [Fact]
    public void EverySourceFileAndPageTheDocsNameExists()
    {
        var root = RepoPaths.Root();
        var sources = new[] { "src", "tests", "bench", "scripts" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*", SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/"))
            .ToList();
        var docs = Directory
            .EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories)
            .Append(Path.Combine(root, "README.md"));
        var named = new Regex(@"(?<![\w.-])((?:[\w-]+/)*[A-Z][\w-]*\.(?:cs|csproj))\b");
        var link = new Regex(@"\]\(([^)#:\s]+\.(?:md|png|jpg|txt))(?:#[^)]*)?\)");
        var missing = new List<string>();
        foreach (var doc in docs)
        {
            var text = File.ReadAllText(doc);
            var where = Path.GetRelativePath(root, doc);
            foreach (Match m in named.Matches(text))
                if (!sources.Any(f => f == m.Groups[1].Value || f.EndsWith("/" + m.Groups[1].Value)))
                    missing.Add($"{where}: {m.Groups[1].Value}");
            foreach (Match m in link.Matches(text))
                if (!File.Exists(Path.Combine(Path.GetDirectoryName(doc)!, m.Groups[1].Value)))
                    missing.Add($"{where}: link {m.Groups[1].Value}");
        }
        Assert.True(missing.Count == 0, "named but missing:\n" + string.Join("\n", missing.Distinct()));
    }

    [Fact]
    public void NoSourceCitesADocumentThatIsNotInTheRepository()
    {
        var root = RepoPaths.Root();
        var cited = Sources(root)
            .SelectMany(f =>
                Regex.Matches(File.ReadAllText(f), @"(?<![/\w])([A-Z][A-Za-z-]+\.md)\b").Select(m => (f, m.Value))
            )
            .Where(t =>
                !File.Exists(Path.Combine(root, t.Value))
                && !File.Exists(Path.Combine(root, "docs", t.Value))
                && t.Value is not "README.md"
            )
            .Select(t => $"{Path.GetRelativePath(root, t.f)}: {t.Value}")
            .Distinct()
            .ToList();
        Assert.True(cited.Count == 0, "cited but absent:\n" + string.Join("\n", cited));
    }
}
