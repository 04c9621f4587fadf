using System.Security.Cryptography;
using System.Text;
using FaceDistill.Core;

namespace FaceDistill.Serve;

/// <summary>The API key of a server reachable from other machines: read from the first line of a file, compared with
/// <see cref="CryptographicOperations.FixedTimeEquals"/> on SHA-256 digests (the time does not depend on where a guess
/// differs, nor on its length). Clients send <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-API-Key</c>.</summary>
public sealed class ApiKey
{
    private readonly byte[] _digest;

    private ApiKey(string key) => _digest = SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static ApiKey Read(string path)
    {
        if (!File.Exists(path))
            throw FaceDistillException.ForFile(path, "API key file not found");
        string key;
        try
        {
            key = (File.ReadLines(path).FirstOrDefault() ?? "").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw FaceDistillException.ForFile(path, $"API key file cannot be read ({e.Message})");
        }
        if (key.Length < 16)
            throw FaceDistillException.ForFile(path, "the API key (first line) must have at least 16 characters");
        return new ApiKey(key);
    }

    public bool Matches(string? presented) =>
        presented is not null
        && CryptographicOperations.FixedTimeEquals(_digest, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    /// <summary>The key a request presents, if any.</summary>
    public static string? Presented(string? authorization, string? apiKeyHeader) =>
        apiKeyHeader is { Length: > 0 } ? apiKeyHeader
        : authorization is { } a && a.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? a[7..].Trim()
        : null;
}
