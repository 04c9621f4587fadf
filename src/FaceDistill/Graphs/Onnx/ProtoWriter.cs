using System.Text;

namespace FaceDistill.Graphs.Onnx;

/// <summary>
/// The protocol-buffers wire format, as much of it as an ONNX file needs: varints, fixed32 floats and length-delimited
/// strings, bytes and nested messages (https://protobuf.dev/programming-guides/encoding/). A message is written
/// field by field into memory; a nested one is finished first and written as bytes. onnx.proto is proto2, so repeated
/// integers are written unpacked (one tag each), which every parser accepts.
/// </summary>
public sealed class ProtoWriter
{
    private readonly MemoryStream _buf = new();

    private void Raw(ulong v)
    {
        while (v >= 0x80)
        {
            _buf.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _buf.WriteByte((byte)v);
    }

    private void Tag(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

    /// <summary>int32/int64/enum/bool field (wire type 0); negative values take ten bytes, as protobuf
    /// specifies.</summary>
    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        Raw(unchecked((ulong)value));
        return this;
    }

    /// <summary>float field (wire type 5, little-endian IEEE 754).</summary>
    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        BitConverter.TryWriteBytes(b, value);
        if (!BitConverter.IsLittleEndian)
            b.Reverse();
        _buf.Write(b);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        Raw((ulong)value.Length);
        _buf.Write(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    public byte[] ToArray() => _buf.ToArray();
}
