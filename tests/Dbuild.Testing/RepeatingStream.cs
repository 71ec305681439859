namespace Dbuild.Testing;

/// <summary>Serves the same block again and again up to a length, so a test can send GiBs while holding one block.</summary>
public sealed class RepeatingStream(byte[] block, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = (int)Math.Min(count, Math.Min(length - _position, block.Length - (_position % block.Length)));
        Array.Copy(block, _position % block.Length, buffer, offset, n);
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
