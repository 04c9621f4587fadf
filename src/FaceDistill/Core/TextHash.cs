using System.Security.Cryptography;
using System.Text;

namespace FaceDistill.Core;

/// <summary>Short content keys for caches: the lowercase hex SHA-256 of a text (UTF-8), cut to a length.</summary>
public static class TextHash
{
    public static string Sha256Hex(string text, int hexChars) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..hexChars].ToLowerInvariant();
}
