using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Core;
using YamlDotNet.RepresentationModel;

namespace FaceDistill.Config;

/// <summary>
/// Loads an experiment config (JSON, or YAML by extension) and applies command-line overrides (<c>train.epochs=3</c>):
/// unknown keys and wrong types are rejected with a one-line message naming the file and the key. The values are
/// checked and the chosen methods' defaults filled in one layer up, where the registries are (<c>Runs.RunConfig</c>).
/// </summary>
public static class ConfigLoader
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Loads <paramref name="path"/> (or the defaults when null) and applies <paramref
    /// name="overrides"/>.</summary>
    public static RunSettings Load(string? path, IEnumerable<string>? overrides = null)
    {
        string source = path ?? "(defaults)";
        JsonObject root;
        if (path is null)
            root = new JsonObject();
        else
        {
            if (!File.Exists(path))
                throw FaceDistillException.ForFile(path, "config file not found");
            var text = File.ReadAllText(path);
            var ext = Path.GetExtension(path).ToLowerInvariant();
            JsonNode? node = ext is ".yaml" or ".yml" ? ParseYaml(text, path) : ParseJson(text, path);
            root =
                node as JsonObject
                ?? throw FaceDistillException.ForFile(path, "the config must be an object at the top level");
        }
        foreach (var o in overrides ?? [])
            ApplyOverride(root, o, source);
        return FromNode(root, source);
    }

    public static RunSettings FromNode(JsonObject root, string source)
    {
        CheckSchema(root, typeof(RunSettings), "", source);
        RunSettings cfg;
        try
        {
            cfg = root.Deserialize<RunSettings>(Json) ?? new RunSettings();
        }
        catch (JsonException e)
        {
            throw FaceDistillException.ForFile(source, $"key '{e.Path?.TrimStart('$', '.')}': {e.Message}");
        }
        return cfg;
    }

    public static string ToJson(RunSettings cfg) => JsonSerializer.Serialize(cfg, Json);

    /// <summary>JSON text (comments and trailing commas allowed) as a fully built tree; malformed JSON or a key given
    /// twice is a one-line error naming <paramref name="path"/>.</summary>
    public static JsonNode? ParseJson(string text, string path)
    {
        try
        {
            return Materialise(
                JsonNode.Parse(
                    text,
                    documentOptions: new JsonDocumentOptions
                    {
                        CommentHandling = JsonCommentHandling.Skip,
                        AllowTrailingCommas = true,
                    }
                )
            );
        }
        catch (JsonException e)
        {
            throw FaceDistillException.ForFile(
                path,
                $"malformed JSON at line {e.LineNumber + 1}: {FirstSentence(e.Message)}"
            );
        }
        catch (ArgumentException e) // JsonNode refuses an object with a key twice
        {
            throw FaceDistillException.ForFile(path, $"a key appears twice ({FirstSentence(e.Message)})");
        }
    }

    /// <summary>Walks the whole tree (JsonNode builds objects lazily, so a duplicate key surfaces here, inside the
    /// parse's error handling).</summary>
    private static JsonNode? Materialise(JsonNode? node)
    {
        if (node is JsonObject o)
            foreach (var (_, v) in o)
                Materialise(v);
        else if (node is JsonArray a)
            foreach (var v in a)
                Materialise(v);
        return node;
    }

    private static string FirstSentence(string m)
    {
        int i = m.IndexOf(". ");
        return i > 0 ? m[..i] : m.TrimEnd('.');
    }

    private static JsonNode? ParseYaml(string text, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw FaceDistillException.ForFile(path, $"malformed YAML at line {e.Start.Line}: {e.Message}");
        }
        if (stream.Documents.Count == 0)
            throw FaceDistillException.ForFile(path, "the config is empty (write {} for all defaults)");
        if (stream.Documents.Count > 1)
            throw FaceDistillException.ForFile(
                path,
                $"holds {stream.Documents.Count} YAML documents (a second starts at line "
                    + $"{stream.Documents[1].RootNode.Start.Line}); a config is one document"
            );
        return YamlToJson(stream.Documents[0].RootNode, "", path);
    }

    private static JsonNode? YamlToJson(YamlNode node, string key, string path)
    {
        switch (node)
        {
            case YamlMappingNode m:
                var obj = new JsonObject();
                foreach (var (k, v) in m.Children)
                {
                    if (k is not YamlScalarNode { Value: { } name })
                        throw FaceDistillException.ForFile(
                            path,
                            $"line {k.Start.Line}: keys must be plain names (under '{key}')"
                        );
                    var full = key.Length == 0 ? name : $"{key}.{name}";
                    if (obj.ContainsKey(name))
                        throw FaceDistillException.ForFile(path, $"key '{full}' appears twice");
                    obj[name] = YamlToJson(v, full, path);
                }
                return obj;
            case YamlSequenceNode s:
                return new JsonArray(s.Children.Select((c, i) => YamlToJson(c, $"{key}[{i}]", path)).ToArray());
            case YamlScalarNode sc:
                var value = Scalar(
                    sc.Value,
                    sc.Style is YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted
                );
                if (value is JsonValue jv && jv.TryGetValue<double>(out var d) && !double.IsFinite(d))
                    throw FaceDistillException.ForFile(path, $"key '{key}' is {sc.Value}: numbers must be finite");
                return value;
            default:
                return null;
        }
    }

    /// <summary>Infers a scalar's type as YAML 1.2 core does: null, bool, integer, float, else string.</summary>
    private static JsonNode? Scalar(string? v, bool quoted)
    {
        if (v is null)
            return null;
        if (quoted)
            return JsonValue.Create(v);
        if (v is "null" or "~" or "")
            return null;
        if (v is "true" or "True")
            return JsonValue.Create(true);
        if (v is "false" or "False")
            return JsonValue.Create(false);
        if (long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l))
            return JsonValue.Create(l);
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            return JsonValue.Create(d);
        return JsonValue.Create(v);
    }

    /// <summary>Applies <c>a.b.c=value</c>; the value is read as JSON (number, bool, array, null) or else as a
    /// string.</summary>
    public static void ApplyOverride(JsonObject root, string assignment, string source)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0)
            throw new FaceDistillException($"--set '{assignment}': expected key=value (for example train.epochs=3)");
        var key = assignment[..eq].Trim();
        var raw = assignment[(eq + 1)..].Trim();
        JsonNode? value;
        try
        {
            value = JsonNode.Parse(raw);
        }
        catch (JsonException)
        {
            value = JsonValue.Create(raw);
        }
        var parts = key.Split('.');
        var obj = root;
        var type = typeof(RunSettings);
        for (int i = 0; i < parts.Length; i++)
        {
            if (i == parts.Length - 1 && FindProperty(type, parts[i]) is null && AcceptsExtraKeys(type))
            {
                obj[parts[i]] = value; // a method's own key, checked when the config is resolved
                return;
            }
            var prop =
                FindProperty(type, parts[i])
                ?? throw new FaceDistillException(
                    $"--set {key}: unknown key '{string.Join('.', parts[..(i + 1)])}' (known here: {KnownKeys(type)})"
                );
            var name = CamelCase(prop.Name);
            var existingName =
                obj.Select(kv => kv.Key)
                    .FirstOrDefault(k => string.Equals(k, parts[i], StringComparison.OrdinalIgnoreCase))
                ?? name;
            if (i == parts.Length - 1)
            {
                // a string typed where a number/bool was meant stays a string and is rejected by the schema check
                obj[existingName] = value;
            }
            else
            {
                if (obj[existingName] is not JsonObject child)
                {
                    child = new JsonObject();
                    obj[existingName] = child;
                }
                obj = child;
                type = prop.PropertyType;
            }
        }
    }

    private static string CamelCase(string s) => char.ToLowerInvariant(s[0]) + s[1..];

    private static PropertyInfo? FindProperty(Type t, string key) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p =>
                p.CanWrite
                && string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase)
                && !p.IsDefined(typeof(System.Text.Json.Serialization.JsonExtensionDataAttribute), false)
            );

    private static string KnownKeys(Type t) =>
        string.Join(
            ", ",
            t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p =>
                    p.CanWrite && !p.IsDefined(typeof(System.Text.Json.Serialization.JsonExtensionDataAttribute), false)
                )
                .Select(p => CamelCase(p.Name))
        );

    /// <summary>Walks the JSON beside the record types: every key must exist, every value must have the right
    /// type.</summary>
    private static void CheckSchema(JsonNode? node, Type type, string path, string source)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        bool nullable = underlying is not null || !type.IsValueType;
        type = underlying ?? type;
        string where = path.Length == 0 ? "the config" : $"key '{path}'";
        if (node is null)
        {
            if (!nullable || type.IsArray || IsRecord(type))
                throw FaceDistillException.ForFile(source, $"{where} must not be null");
            return;
        }
        if (IsRecord(type))
        {
            if (node is not JsonObject obj)
                throw FaceDistillException.ForFile(source, $"{where} must be an object, found {Describe(node)}");
            var twice = obj.GroupBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (twice is not null)
                throw FaceDistillException.ForFile(
                    source,
                    "keys '"
                        + string.Join("', '", twice.Select(kv => path.Length == 0 ? kv.Key : $"{path}.{kv.Key}"))
                        + "' differ only in case"
                );
            foreach (var (k, v) in obj)
            {
                var prop = FindProperty(type, k);
                var full = path.Length == 0 ? k : $"{path}.{k}";
                if (prop is null && AcceptsExtraKeys(type))
                    continue; // checked by the registry that declares them
                if (prop is null)
                    throw FaceDistillException.ForFile(source, $"unknown key '{full}' (known here: {KnownKeys(type)})");
                CheckSchema(v, prop.PropertyType, full, source);
            }
            return;
        }
        if (type.IsArray)
        {
            if (node is not JsonArray arr)
                throw FaceDistillException.ForFile(source, $"{where} must be a list, found {Describe(node)}");
            for (int i = 0; i < arr.Count; i++)
                CheckSchema(arr[i], type.GetElementType()!, $"{path}[{i}]", source);
            return;
        }
        var kind = node.GetValueKind();
        if (kind == JsonValueKind.Number && node is JsonValue num && !IsFiniteNumber(num))
            throw FaceDistillException.ForFile(source, $"{where} is {node.ToJsonString()}: numbers must be finite");
        bool ok =
            type == typeof(string) ? kind == JsonValueKind.String
            : type == typeof(bool) ? kind is JsonValueKind.True or JsonValueKind.False
            : type == typeof(int) || type == typeof(long) ? kind == JsonValueKind.Number && IsInteger(node)
            : type == typeof(double) || type == typeof(float) ? kind == JsonValueKind.Number
            : true;
        if (!ok)
        {
            string want =
                type == typeof(string) ? "a string"
                : type == typeof(bool) ? "true or false"
                : type == typeof(int) || type == typeof(long) ? "an integer"
                : "a number";
            throw FaceDistillException.ForFile(source, $"{where} must be {want}, found {Describe(node)}");
        }
    }

    private static bool IsInteger(JsonNode n) =>
        n is JsonValue v
        && (
            v.TryGetValue<long>(out _)
            || (v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < 1e15)
            || (v.TryGetValue<JsonElement>(out var e) && e.TryGetInt64(out _))
        );

    private static bool IsFiniteNumber(JsonValue v) =>
        v.TryGetValue<double>(out var d) ? double.IsFinite(d)
        : v.TryGetValue<JsonElement>(out var e) ? e.TryGetDouble(out var ed) && double.IsFinite(ed)
        : true; // integers

    private static bool AcceptsExtraKeys(Type t) =>
        t.GetProperties()
            .Any(p => p.IsDefined(typeof(System.Text.Json.Serialization.JsonExtensionDataAttribute), false));

    private static bool IsRecord(Type t) => t.IsClass && t != typeof(string) && !t.IsArray;

    private static string Describe(JsonNode n) =>
        n.GetValueKind() switch
        {
            JsonValueKind.String => $"\"{n.GetValue<string>()}\"",
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "a list",
            _ => n.ToJsonString(),
        };
}
